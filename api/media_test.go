package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testJPEG is a w×h JPEG of a gradient.
func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, img, nil))
	return buf.Bytes()
}

// testPNG is a w×h PNG.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))))
	return buf.Bytes()
}

// hugePNG is a small PNG whose header claims w×h pixels (its checksum
// right), so that only a check of the header before decoding stops it.
func hugePNG(t testing.TB, w, h uint32) []byte {
	data := testPNG(t, 8, 8)
	// The signature (8 bytes), IHDR's length (4) and type (4), then
	// width and height, then the chunk's CRC over type and data.
	binary.BigEndian.PutUint32(data[16:], w)
	binary.BigEndian.PutUint32(data[20:], h)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

const testPDF = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// testMP4 is the start of an MP4 file: its ftyp box, then an empty mdat.
func testMP4() []byte {
	ftyp := []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	return append(ftyp, []byte("\x00\x00\x00\x10mdat0123456789ab")...)
}

// mediaForm is a multipart body with the file under name, declared by the
// client as declared, and the field kind. A name starting "*=" is sent as
// it is, RFC 2231's encoded filename*.
func mediaForm(kind, name, declared string, content []byte) (string, []byte) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if kind != "" {
		_ = mw.WriteField("kind", kind)
	}
	h := textproto.MIMEHeader{}
	escaped := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename="%s"`, escaped))
	if encoded, ok := strings.CutPrefix(name, "*="); ok {
		h.Set("Content-Disposition", `form-data; name="file"; filename*=`+encoded)
	}
	h.Set("Content-Type", declared)
	fw, _ := mw.CreatePart(h)
	_, _ = fw.Write(content)
	_ = mw.Close()
	return mw.FormDataContentType(), body.Bytes()
}

// upload sends a file for product pid as who.
func (p *platform) upload(who, pid, kind, name, declared string, content []byte) response {
	p.t.Helper()
	ct, body := mediaForm(kind, name, declared, content)
	return p.do(who, "POST", "/v1/products/"+pid+"/media", body, "Content-Type", ct)
}

// listProduct lists a product for who, returning its ID.
func (p *platform) listProduct(who, sku string) string {
	p.t.Helper()
	var prod struct{ ID string }
	p.must(http.StatusCreated, p.do(who, "POST", "/v1/products", map[string]any{"sku": sku, "name": "Bolt " + sku, "category": "fasteners",
		"unit": "piece", "moq": 1, "currency": "USD", "price_tiers": []map[string]int{{"min_quantity": 1, "unit_price": 100}},
		"lead_time_days": 1, "origin_region": "CN"})).json(p.t, &prod)
	return prod.ID
}

// stored counts media rows and blobs in the bucket.
func (p *platform) stored() (rows, blobs int) {
	p.t.Helper()
	ctx := context.Background()
	require.NoError(p.t, p.pool.QueryRow(ctx, "SELECT count(*) FROM media").Scan(&rows))
	it := p.media.List(nil)
	for {
		_, err := it.Next(ctx)
		if err == io.EOF {
			break
		}
		require.NoError(p.t, err)
		blobs++
	}
	return rows, blobs
}

// Uploads of product media: an image is stored with a thumbnail of 320
// pixels on its long side, served to any user with its ETag (304 on a
// repeat), inline, immutable and never sniffed; a PDF and an MP4 are
// downloads; what a file is comes from its bytes, not its name or declared
// type; the product shows its media; another supplier and buyers cannot
// add or delete; deleting removes the row and the blobs.
func TestProductMediaAreStoredCheckedAndServed(t *testing.T) {
	p := newPlatform(t)
	pid := p.listProduct("supplier", "M-1")
	photo := testJPEG(t, 1200, 800)

	r := p.must(http.StatusCreated, p.upload("supplier", pid, "image", "front view.jpg", "image/jpeg", photo))
	var img MediaView
	r.json(t, &img)
	sum := sha256.Sum256(photo)
	assert.Equal(t, "image/jpeg", img.ContentType)
	assert.Equal(t, int64(len(photo)), img.Size)
	assert.Equal(t, hex.EncodeToString(sum[:]), img.SHA256)
	assert.Equal(t, "front view.jpg", img.Name)
	assert.Equal(t, "/v1/media/"+img.ID.String()+"/thumbnail", img.ThumbnailURL)
	assert.Equal(t, img.URL, r.header.Get("Location"))

	thumb := p.must(http.StatusOK, p.do("buyer", "GET", img.ThumbnailURL, nil))
	cfg, format, err := image.DecodeConfig(bytes.NewReader(thumb.body))
	require.NoError(t, err)
	assert.Equal(t, "jpeg", format)
	assert.Equal(t, [2]int{320, 213}, [2]int{cfg.Width, cfg.Height})

	orig := p.must(http.StatusOK, p.do("buyer", "GET", img.URL, nil))
	assert.Equal(t, photo, orig.body)
	assert.Equal(t, "image/jpeg", orig.header.Get("Content-Type"))
	assert.Equal(t, "private, max-age=31536000, immutable", orig.header.Get("Cache-Control"))
	assert.Equal(t, `"`+img.SHA256+`"`, orig.header.Get("ETag"))
	assert.Equal(t, "nosniff", orig.header.Get("X-Content-Type-Options"))
	assert.True(t, strings.HasPrefix(orig.header.Get("Content-Disposition"), "inline"), orig.header.Get("Content-Disposition"))
	again := p.do("buyer2", "GET", img.URL, nil, "If-None-Match", `"`+img.SHA256+`"`)
	assert.Equal(t, http.StatusNotModified, again.status)
	assert.Empty(t, again.body)
	assert.Equal(t, http.StatusOK, p.do("buyer", "GET", img.URL, nil, "If-None-Match", `"0000"`).status)

	var sheet, video, cert MediaView
	p.must(http.StatusCreated, p.upload("supplier", pid, "spec_sheet", "规格书.pdf", "application/pdf", []byte(testPDF))).json(t, &sheet)
	assert.Equal(t, "application/pdf", sheet.ContentType)
	assert.Empty(t, sheet.ThumbnailURL)
	got := p.must(http.StatusOK, p.do("buyer", "GET", sheet.URL, nil))
	assert.Equal(t, testPDF, string(got.body))
	assert.Equal(t, "application/pdf", got.header.Get("Content-Type"))
	assert.Contains(t, got.header.Get("Content-Disposition"), "attachment")
	assert.Equal(t, http.StatusNotFound, p.do("buyer", "GET", sheet.URL+"/thumbnail", nil).status)
	p.must(http.StatusCreated, p.upload("supplier", pid, "factory_video", "line.mp4", "application/octet-stream", testMP4())).json(t, &video)
	assert.Equal(t, "video/mp4", video.ContentType)
	assert.Contains(t, p.must(http.StatusOK, p.do("buyer", "GET", video.URL, nil)).header.Get("Content-Disposition"), "attachment")
	// A JPEG declared as a PDF is a JPEG: a certificate may be one.
	p.must(http.StatusCreated, p.upload("supplier", pid, "certificate", "ce.pdf", "application/pdf", photo)).json(t, &cert)
	assert.Equal(t, "image/jpeg", cert.ContentType)

	var prod struct {
		ID    string
		Media []MediaView
	}
	p.must(http.StatusOK, p.do("buyer", "GET", "/v1/products/"+pid, nil)).json(t, &prod)
	require.Len(t, prod.Media, 4)
	assert.Equal(t, img.ID, prod.Media[0].ID)
	assert.Equal(t, img.ThumbnailURL, prod.Media[0].ThumbnailURL)

	rows, blobs := p.stored()
	assert.Equal(t, [2]int{4, 6}, [2]int{rows, blobs}, "four files, two of them images with thumbnails")
	for who, status := range map[string]int{"supplier2": http.StatusNotFound, "buyer": http.StatusForbidden} {
		assert.Equal(t, status, p.upload(who, pid, "image", "x.jpg", "image/jpeg", photo).status, who)
		assert.Equal(t, status, p.do(who, "DELETE", "/v1/products/"+pid+"/media/"+img.ID.String(), nil).status, who)
	}
	for _, path := range []string{"/v1/media/nope", "/v1/media/" + pid, "/v1/media/nope/thumbnail"} {
		assert.Equal(t, http.StatusNotFound, p.do("buyer", "GET", path, nil).status, path)
	}
	p.must(http.StatusOK, p.do("supplier", "DELETE", "/v1/products/"+pid+"/media/"+img.ID.String(), nil))
	assert.Equal(t, http.StatusNotFound, p.do("buyer", "GET", img.URL, nil).status)
	assert.Equal(t, http.StatusNotFound, p.do("supplier", "DELETE", "/v1/products/"+pid+"/media/"+img.ID.String(), nil).status)
	rows, blobs = p.stored()
	assert.Equal(t, [2]int{3, 4}, [2]int{rows, blobs}, "the image's row and both its blobs are gone")
	// A product deleted takes its media with it, blobs and all.
	p.must(http.StatusOK, p.do("supplier", "DELETE", "/v1/products/"+pid, nil))
	rows, blobs = p.stored()
	assert.Equal(t, [2]int{0, 0}, [2]int{rows, blobs}, "a deleted product's media")
}

// Every refusal stores nothing: no row and no blob. The field it names is
// the one at fault; a file name with a raw control character makes Go's
// multipart reader skip its part, so the file is missing.
func TestProductMediaRefusalsStoreNothing(t *testing.T) {
	p := newPlatform(t)
	pid := p.listProduct("supplier", "M-2")
	photo := testJPEG(t, 64, 48)
	for name, c := range map[string]struct {
		kind, name, declared string
		content              []byte
		status               int
		field                string
	}{
		"unknown kind":             {"brochure", "a.jpg", "image/jpeg", photo, 422, "kind"},
		"no kind":                  {"", "a.jpg", "image/jpeg", photo, 422, "kind"},
		"parent directory":         {"image", "../a.jpg", "image/jpeg", photo, 422, "filename"},
		"a path":                   {"image", "etc/a.jpg", "image/jpeg", photo, 422, "filename"},
		"an absolute path":         {"image", "/etc/a.jpg", "image/jpeg", photo, 422, "filename"},
		"a Windows path":           {"image", `C:\a.jpg`, "image/jpeg", photo, 422, "filename"},
		"a control character":      {"image", "a\x01.jpg", "image/jpeg", photo, 422, "file"},
		"a NUL":                    {"image", "a\x00.jpg", "image/jpeg", photo, 422, "file"},
		"an encoded NUL":           {"image", "*=UTF-8''a%00.jpg", "image/jpeg", photo, 422, "filename"},
		"an encoded path":          {"image", "*=UTF-8''..%2Fa.jpg", "image/jpeg", photo, 422, "filename"},
		"201 bytes":                {"image", strings.Repeat("a", 197) + ".jpg", "image/jpeg", photo, 422, "filename"},
		"1,000 characters":         {"image", strings.Repeat("é", 996) + ".jpg", "image/jpeg", photo, 422, "filename"},
		"an empty name":            {"image", " ", "image/jpeg", photo, 422, "filename"},
		"a PDF declared an image":  {"image", "photo.jpg", "image/jpeg", []byte(testPDF), 422, "file"},
		"a JPEG declared a PDF":    {"spec_sheet", "sheet.pdf", "application/pdf", photo, 422, "file"},
		"text as an image":         {"image", "a.jpg", "image/jpeg", []byte("just some words, not a picture at all"), 422, "file"},
		"a broken JPEG":            {"image", "a.jpg", "image/jpeg", photo[:len(photo)/2], 422, "file"},
		"an image as a video":      {"factory_video", "a.mp4", "video/mp4", photo, 422, "file"},
		"a PNG of 100 megapixels":  {"image", "a.png", "image/png", hugePNG(t, 10_000, 10_000), 422, "file"},
		"an image over 10 MiB":     {"image", "a.jpg", "image/jpeg", append(bytes.Clone(photo), make([]byte, 10<<20)...), 413, "file"},
		"an empty file":            {"image", "a.jpg", "image/jpeg", nil, 422, "file"},
		"a PDF certificate as MP4": {"factory_video", "a.mp4", "video/mp4", []byte(testPDF), 422, "file"},
	} {
		r := p.upload("supplier", pid, c.kind, c.name, c.declared, c.content)
		if !assert.Equal(t, c.status, r.status, "%s: %s", name, r.body) {
			continue
		}
		var e struct {
			Error struct {
				Details struct{ Field string }
			}
		}
		r.json(t, &e)
		if c.field != "" {
			assert.Equal(t, c.field, e.Error.Details.Field, "%s: %s", name, r.body)
		}
		rows, blobs := p.stored()
		assert.Equal(t, [2]int{0, 0}, [2]int{rows, blobs}, "%s stored something", name)
	}
	// A body beyond any file's limit stops at the route's own.
	assert.Equal(t, http.StatusRequestEntityTooLarge, p.upload("supplier", pid, "factory_video", "a.mp4", "video/mp4", make([]byte, maxMediaBody+1)).status)
	// Other routes keep the API's small limit.
	assert.Equal(t, http.StatusRequestEntityTooLarge, p.do("supplier", "POST", "/v1/products", make([]byte, 2<<20)).status)

	// The cap: twenty files a product. Eight uploads at once for the last
	// four places: four are stored, four refused and their blobs removed.
	small := testPNG(t, 4, 4)
	for i := range 16 {
		p.must(http.StatusCreated, p.upload("supplier", pid, "factory_photo", fmt.Sprintf("f%d.png", i), "image/png", small))
	}
	statuses := make(chan int, 8)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			statuses <- p.upload("supplier", pid, "factory_photo", fmt.Sprintf("g%d.png", i), "image/png", small).status
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	assert.Equal(t, map[int]int{http.StatusCreated: 4, http.StatusUnprocessableEntity: 4}, counts)
	r := p.upload("supplier", pid, "factory_photo", "f21.png", "image/png", small)
	assert.Equal(t, http.StatusUnprocessableEntity, r.status, "%s", r.body)
	rows, blobs := p.stored()
	assert.Equal(t, [2]int{20, 40}, [2]int{rows, blobs})
}

// consoleUpload sends a file to the console's upload form as b.
func consoleUpload(t *testing.T, b *browserless, csrf, pid, kind, name string, content []byte) page {
	t.Helper()
	return consoleFile(t, b, "/app/products/"+pid+"/media", name, content, map[string]string{"csrf": csrf, "kind": kind})
}

// consoleFile posts a console form with a file (the field file, named
// name) and fields, as a browser does.
func consoleFile(t *testing.T, b *browserless, path, name string, content []byte, fields map[string]string) page {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest("POST", b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw)}
}

// The console's product page: its supplier uploads through a form with
// the session's CSRF token, under the API's checks; everyone sees the
// thumbnails (same-origin, as the console's CSP wants) and links to the
// files, served under /app/media as under /v1/media.
func TestConsoleProductPageShowsAndUploadsMedia(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier", "buyer", "supplier2")
	pid := p.listProduct("supplier", "M-3")
	sup := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := sup.signIn("supplier")
	page := sup.do("GET", "/app/products/"+pid, nil)
	assert.Contains(t, page.body, `id="media-upload"`)
	assert.Contains(t, page.body, `enctype="multipart/form-data"`)

	assert.Equal(t, http.StatusForbidden, consoleUpload(t, sup, "not the token", pid, "image", "a.jpg", testJPEG(t, 40, 30)).status)
	res := consoleUpload(t, sup, csrf, pid, "spec_sheet", "a.pdf", testJPEG(t, 40, 30))
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="media-error"`)
	rows, blobs := p.stored()
	assert.Equal(t, [2]int{0, 0}, [2]int{rows, blobs})

	res = consoleUpload(t, sup, csrf, pid, "image", "side.jpg", testJPEG(t, 400, 300))
	require.Equal(t, http.StatusSeeOther, res.status, res.body)
	var prod struct{ Media []MediaView }
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/products/"+pid, nil)).json(t, &prod)
	require.Len(t, prod.Media, 1)
	id := prod.Media[0].ID.String()

	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	page = buyer.do("GET", "/app/products/"+pid, nil)
	assert.Contains(t, page.body, `<img src="/app/media/`+id+`/thumbnail"`)
	assert.Contains(t, page.body, `href="/app/media/`+id+`"`)
	assert.NotContains(t, page.body, `id="media-upload"`)
	file := buyer.do("GET", "/app/media/"+id, nil)
	assert.Equal(t, http.StatusOK, file.status)
	assert.Equal(t, "image/jpeg", file.header.Get("Content-Type"))
	assert.Equal(t, `"`+prod.Media[0].SHA256+`"`, file.header.Get("ETag"))
	assert.Equal(t, http.StatusOK, buyer.do("GET", "/app/media/"+id+"/thumbnail", nil).status)
	assert.Equal(t, http.StatusNotFound, buyer.do("GET", "/app/media/nope", nil).status)
	assert.Equal(t, http.StatusForbidden, consoleUpload(t, buyer, buyer.signIn("buyer"), pid, "image", "a.jpg", testJPEG(t, 40, 30)).status)

	other := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	otherCSRF := other.signIn("supplier2")
	res = consoleUpload(t, other, otherCSRF, pid, "image", "a.jpg", testJPEG(t, 40, 30))
	assert.Equal(t, http.StatusNotFound, res.status)
	rows, blobs = p.stored()
	assert.Equal(t, [2]int{1, 2}, [2]int{rows, blobs})

	// Only its supplier deletes a file, row and blobs.
	assert.NotContains(t, buyer.do("GET", "/app/products/"+pid, nil).body, `class="inline delete-medium"`)
	assert.Equal(t, http.StatusNotFound, other.do("POST", "/app/products/"+pid+"/media/"+id+"/delete", url.Values{"csrf": {otherCSRF}}).status)
	assert.Contains(t, sup.do("GET", "/app/products/"+pid, nil).body, `action="/app/products/`+pid+`/media/`+id+`/delete"`)
	assert.Equal(t, http.StatusSeeOther, sup.do("POST", "/app/products/"+pid+"/media/"+id+"/delete", url.Values{"csrf": {csrf}}).status)
	rows, blobs = p.stored()
	assert.Equal(t, [2]int{0, 0}, [2]int{rows, blobs})
}
