package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"github.com/tradeloop/tradeloop/db/store"
)

// Service stores, checks and serves product media.
type Service struct {
	db     *pgxpool.Pool
	bucket *blob.Bucket
	logger *slog.Logger
}

// New is the media service over the database and the media bucket.
func New(db *pgxpool.Pool, bucket *blob.Bucket, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{db: db, bucket: bucket, logger: logger}
}

// Upload is a file a supplier sends for one of its products.
type Upload struct {
	Kind string
	// Name is the file's name as the client sent it, to be shown.
	Name string
	// Size is the file's length as received; the bytes read are held to
	// it too.
	Size int64
	File io.ReadSeeker
}

// originalKey and thumbnailKey are where a medium's blobs are.
func originalKey(id uuid.UUID) string  { return id.String() }
func thumbnailKey(id uuid.UUID) string { return id.String() + "-thumbnail" }

// Add checks the file in and stores it as a medium of supplier org's
// product: its blobs first, then its row, under a lock of the product
// that keeps its count of media within MaxPerProduct. A product that is
// not org's is ErrNotFound; a file refused is a *Refusal, and nothing of
// it is stored.
func (s *Service) Add(ctx context.Context, org, product uuid.UUID, in Upload) (Item, error) {
	q := store.New(s.db)
	owns, err := q.SupplierOwnsProduct(ctx, store.SupplierOwnsProductParams{ID: product, SupplierOrgID: org})
	if err != nil {
		return Item{}, fmt.Errorf("look up product %s: %w", product, err)
	}
	if !owns {
		return Item{}, ErrNotFound
	}
	kind, ok := ParseKind(in.Kind)
	if !ok {
		return Item{}, refuse("kind", "is one of image, spec_sheet, certificate, factory_photo or factory_video")
	}
	if n, err := q.CountProductMedia(ctx, product); err != nil {
		return Item{}, fmt.Errorf("count product %s's media: %w", product, err)
	} else if n >= MaxPerProduct {
		return Item{}, tooMany()
	}
	item, err := s.StoreFile(ctx, kind, in)
	if err != nil {
		return Item{}, err
	}
	item.SupplierID, item.ProductID = org, product
	if err := s.insert(ctx, &item); err != nil {
		s.deleteBlobs(context.WithoutCancel(ctx), item)
		return Item{}, err
	}
	return item, nil
}

// StoreFile checks the file in as kind and stores its blobs (and an
// image's thumbnail) under a new id, for a caller that keeps the row
// (Add; a supplier's verification documents). A file refused is a
// *Refusal, and nothing of it is stored; DeleteBlobs removes what the
// caller cannot keep.
func (s *Service) StoreFile(ctx context.Context, kind Kind, in Upload) (Item, error) {
	if err := CheckName(in.Name); err != nil {
		return Item{}, err
	}
	if err := checkSize(kind, in.Size); err != nil {
		return Item{}, err
	}
	file, err := s.check(kind, in)
	if err != nil {
		return Item{}, err
	}
	item := Item{ID: uuid.New(), Kind: kind, Name: in.Name, ContentType: file.contentType}
	if err := s.storeBlobs(ctx, &item, in, file); err != nil {
		return Item{}, err
	}
	return item, nil
}

func checkSize(kind Kind, size int64) error {
	switch {
	case size <= 0:
		return refuse("file", "is empty")
	case size > kind.MaxSize():
		r := refuse("file", "is %d bytes; a %s may have at most %d MiB", size, kind, kind.MaxSize()>>20)
		r.TooLarge = true
		return r
	}
	return nil
}

func tooMany() *Refusal {
	return refuse("file", "a product may have at most %d files: delete one first", MaxPerProduct)
}

// checked is what the bytes of an upload turned out to be.
type checked struct {
	contentType string
	// thumbnail is an image's thumbnail (JPEG), nil for other files.
	thumbnail []byte
}

// check reads what the file is from its bytes and refuses what its kind
// does not take; an image is decoded, within MaxPixels, to its thumbnail.
func (s *Service) check(kind Kind, in Upload) (checked, error) {
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(in.File, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return checked{}, fmt.Errorf("read the upload: %w", err)
	}
	ct := sniff(head[:n])
	if ct == "" || !kind.Accepts(ct) {
		return checked{}, refuse("file", "must be %s for a %s (its bytes are not)", kind.accepted(), kind)
	}
	out := checked{contentType: ct}
	if isImage(ct) {
		data, err := readAll(in.File, kind.MaxSize())
		if err != nil {
			return checked{}, err
		}
		if out.thumbnail, err = thumbnail(data, ct); err != nil {
			return checked{}, err
		}
	}
	return out, nil
}

// readAll reads the whole of file from its start, up to max bytes.
func readAll(file io.ReadSeeker, max int64) ([]byte, error) {
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind the upload: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(file, max+1))
	if err != nil {
		return nil, fmt.Errorf("read the upload: %w", err)
	}
	if int64(len(data)) > max {
		return nil, &Refusal{Field: "file", Message: fmt.Sprintf("is larger than %d MiB", max>>20), TooLarge: true}
	}
	return data, nil
}

// storeBlobs writes the original (hashing it, and holding it to its
// kind's size) and the thumbnail; on failure it leaves neither.
func (s *Service) storeBlobs(ctx context.Context, item *Item, in Upload, file checked) error {
	if _, err := in.File.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind the upload: %w", err)
	}
	hash := sha256.New()
	limit := item.Kind.MaxSize()
	body := io.TeeReader(io.LimitReader(in.File, limit+1), hash)
	n, err := s.write(ctx, originalKey(item.ID), item.ContentType, body)
	if err == nil && n > limit {
		err = &Refusal{Field: "file", Message: fmt.Sprintf("is larger than %d MiB", limit>>20), TooLarge: true}
	}
	if err == nil && n == 0 {
		err = refuse("file", "is empty")
	}
	if err == nil && file.thumbnail != nil {
		_, err = s.write(ctx, thumbnailKey(item.ID), TypeJPEG, bytes.NewReader(file.thumbnail))
		item.HasThumbnail = err == nil
	}
	if err != nil {
		s.deleteBlobs(context.WithoutCancel(ctx), *item)
		return err
	}
	item.Size, item.SHA256 = n, hex.EncodeToString(hash.Sum(nil))
	return nil
}

// write stores body as the blob key.
func (s *Service) write(ctx context.Context, key, contentType string, body io.Reader) (int64, error) {
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType})
	if err != nil {
		return 0, fmt.Errorf("open blob %s: %w", key, err)
	}
	n, err := io.Copy(w, body)
	if err != nil {
		_ = w.Close()
		return n, fmt.Errorf("write blob %s: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return n, fmt.Errorf("store blob %s: %w", key, err)
	}
	return n, nil
}

// insert writes the medium's row, with its product locked and its count
// checked again (another upload may have taken the last place).
func (s *Service) insert(ctx context.Context, item *Item) error {
	return pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error {
		q := store.New(tx)
		if _, err := q.LockSupplierProduct(ctx, store.LockSupplierProductParams{ID: item.ProductID, SupplierOrgID: item.SupplierID}); errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return fmt.Errorf("lock product %s: %w", item.ProductID, err)
		}
		n, err := q.CountProductMedia(ctx, item.ProductID)
		if err != nil {
			return fmt.Errorf("count product %s's media: %w", item.ProductID, err)
		}
		if n >= MaxPerProduct {
			return tooMany()
		}
		row, err := q.InsertMedia(ctx, store.InsertMediaParams{ID: item.ID, SupplierOrgID: item.SupplierID, ProductID: item.ProductID,
			Kind: store.MediaKind(item.Kind), Name: item.Name, ContentType: item.ContentType, SizeBytes: item.Size, Sha256: item.SHA256,
			HasThumbnail: item.HasThumbnail})
		if err != nil {
			return fmt.Errorf("insert medium %s: %w", item.ID, err)
		}
		*item = fromRow(row)
		return nil
	})
}

// deleteBlobs removes a medium's blobs; a failure is logged (a blob
// without a row is never served).
func (s *Service) deleteBlobs(ctx context.Context, item Item) {
	for _, key := range []string{originalKey(item.ID), thumbnailKey(item.ID)} {
		if err := s.bucket.Delete(ctx, key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			s.logger.WarnContext(ctx, "a medium's blob was not deleted", "key", key, "error", err)
		}
	}
}

func fromRow(r store.Medium) Item {
	return Item{ID: r.ID, SupplierID: r.SupplierOrgID, ProductID: r.ProductID, Kind: Kind(r.Kind), Name: r.Name, ContentType: r.ContentType,
		Size: r.SizeBytes, SHA256: r.Sha256, HasThumbnail: r.HasThumbnail, CreatedAt: r.CreatedAt}
}

// ForProduct lists a product's media, oldest first.
func (s *Service) ForProduct(ctx context.Context, product uuid.UUID) ([]Item, error) {
	rows, err := store.New(s.db).ListProductMedia(ctx, product)
	if err != nil {
		return nil, fmt.Errorf("list product %s's media: %w", product, err)
	}
	items := make([]Item, len(rows))
	for i, r := range rows {
		items[i] = fromRow(r)
	}
	return items, nil
}

// Get is medium id, or ErrNotFound.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Item, error) {
	row, err := store.New(s.db).GetMedia(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Item{}, ErrNotFound
	}
	if err != nil {
		return Item{}, fmt.Errorf("get medium %s: %w", id, err)
	}
	return fromRow(row), nil
}

// Delete removes medium id of supplier org's product: its row, then its
// blobs. Another's medium, or one of another product, is ErrNotFound.
func (s *Service) Delete(ctx context.Context, org, product, id uuid.UUID) error {
	row, err := store.New(s.db).DeleteMedia(ctx, store.DeleteMediaParams{ID: id, ProductID: product, SupplierOrgID: org})
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete medium %s: %w", id, err)
	}
	s.deleteBlobs(ctx, fromRow(row))
	return nil
}

// DeleteBlobs removes the blobs of items, whose rows are gone (their
// product was deleted, and its media rows with it).
func (s *Service) DeleteBlobs(ctx context.Context, items []Item) {
	for _, it := range items {
		s.deleteBlobs(ctx, it)
	}
}
