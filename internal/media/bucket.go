package media

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"gocloud.dev/blob"

	// The bucket schemes MEDIA_BUCKET_URL may name: file:// (development,
	// tests) and s3:// (production, any S3-compatible storage).
	_ "gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/s3blob"
)

// OpenBucket opens the media bucket at rawURL: file:///dir (made if
// missing) or s3://bucket?region=…&endpoint=….
func OpenBucket(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("media bucket URL: %w", err)
	}
	if u.Scheme == "file" {
		if err := os.MkdirAll(u.Path, 0o750); err != nil {
			return nil, fmt.Errorf("make the media directory %s: %w", u.Path, err)
		}
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("open the media bucket (%s): %w", u.Scheme, err)
	}
	return b, nil
}
