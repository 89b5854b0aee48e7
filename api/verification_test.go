package api

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tradeloop/tradeloop/workflows"
)

// documentForm is a multipart body: the file under name, and the fields.
func documentForm(name string, content []byte, fields map[string]string) (string, []byte) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	return mw.FormDataContentType(), body.Bytes()
}

// uploadDocument sends a verification document as who.
func (p *platform) uploadDocument(who, name string, content []byte, fields map[string]string) response {
	p.t.Helper()
	ct, body := documentForm(name, content, fields)
	return p.do(who, "POST", "/v1/verification/documents", body, "Content-Type", ct)
}

// documentsStored counts the supplier's document rows and the bucket's
// blobs.
func (p *platform) documentsStored(who string) (rows int) {
	p.t.Helper()
	if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM verification_documents WHERE supplier_org_id = $1`, p.orgs[who]).Scan(&rows); err != nil {
		p.t.Fatal(err)
	}
	return rows
}

type myVerification struct {
	VerifiedUntil *time.Time `json:"verified_until"`
	Drafts        []struct {
		ID, Kind, Title, Name string
		Round                 int
	} `json:"drafts"`
	Current *verificationBody `json:"current"`
}

type verificationBody struct {
	ID            string     `json:"id"`
	Status        string     `json:"status"`
	Round         int        `json:"round"`
	ReviewDue     *time.Time `json:"review_due_at"`
	VerifiedUntil *time.Time `json:"verified_until"`
	Documents     []struct {
		ID, Kind string
		Round    int
	} `json:"documents"`
	Trail []struct {
		Action, By, Note string
	} `json:"trail"`
}

func (p *platform) myVerification(who string) myVerification {
	p.t.Helper()
	var v myVerification
	p.must(http.StatusOK, p.do(who, "GET", "/v1/verification", nil)).json(p.t, &v)
	return v
}

func (v verificationBody) actions() []string {
	out := make([]string, len(v.Trail))
	for i, s := range v.Trail {
		out[i] = s.Action
	}
	return out
}

// waitForVerification waits until who's latest verification is in
// status, bounded by the workflow's progress, not a timer's length.
func (p *platform) waitForVerification(who, status string) verificationBody {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := p.myVerification(who)
		if v.Current != nil && v.Current.Status == status {
			return *v.Current
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the verification never became %s: %+v", status, v.Current)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitForStep waits until who's latest verification's trail ends with
// action.
func (p *platform) waitForStep(who, action string) verificationBody {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		v := p.myVerification(who)
		if v.Current != nil && len(v.Current.Trail) > 0 && v.Current.Trail[len(v.Current.Trail)-1].Action == action {
			return *v.Current
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the verification's trail never reached %s: %+v", action, v.Current)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// notices counts the outbox's notices of kind to org.
func (p *platform) notices(kind, org string) int {
	p.t.Helper()
	var n int
	if err := p.pool.QueryRow(context.Background(), `SELECT count(*) FROM notification_outbox WHERE kind = $1 AND org_id = $2`, kind, org).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

// badgesSeen is what buyers see of a supplier's badges: in a search hit,
// on its product's page and in its profile.
type badgesSeen struct {
	SearchVerified, SearchGold, ProductVerified, ProductGold bool
	VerifiedUntil, GoldUntil                                 *time.Time
}

// badges is what buyers see of who's badges, pid being its product.
func (p *platform) badges(who, pid string) badgesSeen {
	p.t.Helper()
	var out badgesSeen
	var page struct {
		Items []struct {
			ID               string `json:"id"`
			SupplierVerified bool   `json:"supplier_verified"`
			SupplierGold     bool   `json:"supplier_gold"`
		}
	}
	p.must(http.StatusOK, p.do("buyer", "GET", "/v1/products?q=bolt", nil)).json(p.t, &page)
	for _, it := range page.Items {
		if it.ID == pid {
			out.SearchVerified, out.SearchGold = it.SupplierVerified, it.SupplierGold
		}
	}
	var prod struct {
		SupplierVerified bool `json:"supplier_verified"`
		SupplierGold     bool `json:"supplier_gold"`
	}
	p.must(http.StatusOK, p.do("buyer", "GET", "/v1/products/"+pid, nil)).json(p.t, &prod)
	out.ProductVerified, out.ProductGold = prod.SupplierVerified, prod.SupplierGold
	var sup struct {
		VerifiedUntil *time.Time `json:"verified_until"`
		GoldUntil     *time.Time `json:"gold_until"`
	}
	p.must(http.StatusOK, p.do("buyer", "GET", "/v1/suppliers/"+p.orgs[who].String(), nil)).json(p.t, &sup)
	out.VerifiedUntil, out.GoldUntil = sup.VerifiedUntil, sup.GoldUntil
	return out
}

// verifiedBadges is what buyers see of the supplier's verified badge.
func (p *platform) verifiedBadges(who, pid string) (search, product bool, profile *time.Time) {
	p.t.Helper()
	b := p.badges(who, pid)
	return b.SearchVerified, b.ProductVerified, b.VerifiedUntil
}

// A supplier's verification over HTTP: hostile uploads are refused and
// store nothing; a submission needs a licence and a factory photo; staff
// ask for a revision, the supplier resubmits, staff approve; the badge then
// shows in search, on the product page, in the profile and in the quote
// comparison, and dispatch ranks the supplier higher; the audit trail
// holds each step and who took it. No other party sees or decides it.
func TestASupplierIsVerifiedThroughReviewAndRevision(t *testing.T) {
	p := newPlatform(t)
	pid := p.listProduct("supplier", "BOLT-V1")
	search, product, profile := p.verifiedBadges("supplier", pid)
	require.False(t, search)
	require.False(t, product)
	require.Nil(t, profile)

	certExpiry := time.Now().Add(60 * 24 * time.Hour).UTC().Truncate(time.Second)
	licence := []byte(testPDF)
	photo := testJPEG(t, 64, 48)

	// Hostile uploads: each refused with the field named, nothing stored.
	for _, c := range []struct {
		name, file string
		content    []byte
		fields     map[string]string
		status     int
		field      string
	}{
		{"a PDF as a factory photo", "factory.jpg", licence, map[string]string{"kind": "factory_photo"}, 422, "file"},
		{"a JPEG as a video", "tour.mp4", photo, map[string]string{"kind": "factory_video"}, 422, "file"},
		{"a path trick", "../../etc/licence.pdf", licence, map[string]string{"kind": "business_licence"}, 422, "filename"},
		{"a product's kind", "shirt.jpg", photo, map[string]string{"kind": "image"}, 422, "kind"},
		{"no kind", "licence.pdf", licence, map[string]string{}, 422, "kind"},
		{"a certificate without expiry", "iso.pdf", licence, map[string]string{"kind": "certificate", "title": "ISO 9001"}, 422, "expires_at"},
		{"a certificate without title", "iso.pdf", licence, map[string]string{"kind": "certificate", "expires_at": certExpiry.Format(time.RFC3339)}, 422, "title"},
		{"an expired certificate", "iso.pdf", licence, map[string]string{"kind": "certificate", "title": "ISO 9001", "expires_at": "2020-01-01"}, 422, "expires_at"},
		{"an expiry in 30 years", "iso.pdf", licence, map[string]string{"kind": "certificate", "title": "ISO 9001", "expires_at": "2060-01-01"}, 422, "expires_at"},
		{"a garbled expiry", "iso.pdf", licence, map[string]string{"kind": "certificate", "title": "ISO 9001", "expires_at": "next year"}, 422, "expires_at"},
		{"a control character in the title", "iso.pdf", licence, map[string]string{"kind": "certificate", "title": "ISO\x07 9001", "expires_at": "2030-01-01"}, 422, "title"},
		{"a NUL in the title", "iso.pdf", licence, map[string]string{"kind": "certificate", "title": "ISO\x00", "expires_at": "2030-01-01"}, 422, "title"},
		{"a title of 101 characters", "iso.pdf", licence, map[string]string{"kind": "certificate", "title": strings.Repeat("x", 101), "expires_at": "2030-01-01"}, 422, "title"},
		{"a photo that expires", "factory.jpg", photo, map[string]string{"kind": "factory_photo", "expires_at": "2030-01-01"}, 422, "expires_at"},
		{"a photo with a title", "factory.jpg", photo, map[string]string{"kind": "factory_photo", "title": "Line 3"}, 422, "title"},
		{"an oversized licence", "licence.pdf", append([]byte(testPDF), make([]byte, 10<<20)...), map[string]string{"kind": "business_licence"}, 413, "file"},
		{"an empty file", "licence.pdf", nil, map[string]string{"kind": "business_licence"}, 422, "file"},
	} {
		r := p.uploadDocument("supplier", c.file, c.content, c.fields)
		require.Equal(t, c.status, r.status, "%s: %s", c.name, r.body)
		require.Contains(t, r.errMessage(), c.field, c.name)
	}
	require.Equal(t, 0, p.documentsStored("supplier"))
	rows, blobs := p.stored()
	require.Equal(t, 0, rows)
	require.Equal(t, 0, blobs, "a refused document leaves no blob")
	p.must(http.StatusForbidden, p.uploadDocument("buyer", "licence.pdf", licence, map[string]string{"kind": "business_licence"}))

	// A submission needs a licence and a factory photo or video.
	p.must(http.StatusUnprocessableEntity, p.do("supplier", "POST", "/v1/verification/submit", nil))
	p.must(http.StatusCreated, p.uploadDocument("supplier", "licence.pdf", licence, map[string]string{"kind": "business_licence"}))
	p.must(http.StatusCreated, p.uploadDocument("supplier", "iso-9001.pdf", licence, map[string]string{"kind": "certificate", "title": "ISO 9001",
		"expires_at": certExpiry.Format(time.RFC3339)}))
	r := p.do("supplier", "POST", "/v1/verification/submit", nil)
	require.Equal(t, http.StatusUnprocessableEntity, r.status)
	require.Contains(t, r.errMessage(), "factory photo or video")
	var photoDoc struct{ ID string }
	p.must(http.StatusCreated, p.uploadDocument("supplier", "factory.jpg", photo, map[string]string{"kind": "factory_photo"})).json(t, &photoDoc)
	var submitted struct {
		ID     string
		Status workflows.VerificationStatus
	}
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/verification/submit", nil)).json(t, &submitted)
	require.Equal(t, "in_review", submitted.Status.Status)
	require.Equal(t, "in_review", p.must(http.StatusConflict, p.do("supplier", "POST", "/v1/verification/submit", nil)).errCode())
	p.must(http.StatusNotFound, p.do("supplier", "DELETE", "/v1/verification/documents/"+photoDoc.ID, nil)) // submitted: not a draft
	v := p.myVerification("supplier")
	require.Empty(t, v.Drafts)
	require.Len(t, v.Current.Documents, 3)
	require.NotNil(t, p.waitForStep("supplier", "submitted").ReviewDue)
	require.Equal(t, 1, p.notices("verification_submitted", "platform"))

	// Only its supplier and staff see it, and only staff decide.
	vpath := "/v1/verifications/" + submitted.ID
	p.must(http.StatusNotFound, p.do("supplier2", "GET", vpath, nil))
	p.must(http.StatusForbidden, p.do("buyer", "GET", vpath, nil))
	p.must(http.StatusNotFound, p.do("supplier2", "GET", "/v1/verification/documents/"+photoDoc.ID, nil))
	p.must(http.StatusOK, p.do("supplier", "GET", "/v1/verification/documents/"+photoDoc.ID, nil))
	got := p.must(http.StatusOK, p.do("admin", "GET", "/v1/verification/documents/"+photoDoc.ID, nil))
	require.Equal(t, photo, got.body)
	var queue struct{ Verifications []verificationBody }
	p.must(http.StatusOK, p.do("admin", "GET", "/v1/verifications", nil)).json(t, &queue)
	require.Len(t, queue.Verifications, 1)
	p.must(http.StatusForbidden, p.do("supplier", "GET", "/v1/verifications", nil))
	for _, who := range []string{"supplier", "supplier2", "buyer", "mediator", "finance"} {
		p.must(http.StatusForbidden, p.do(who, "POST", vpath+"/decision", map[string]string{"decision": "approve"}))
	}
	for body, field := range map[string]string{
		`{"decision":"revise"}`:                  "note",
		`{"decision":"reject","note":"   "}`:     "note",
		`{"decision":"maybe"}`:                   "decision",
		`{"decision":"revise","note":"a\u0000"}`: "note",
	} {
		r := p.do("admin", "POST", vpath+"/decision", body)
		require.Equal(t, http.StatusUnprocessableEntity, r.status, body)
		require.Contains(t, r.errMessage(), field, body)
	}
	p.must(http.StatusUnprocessableEntity, p.do("admin", "POST", vpath+"/decision", map[string]string{"decision": "revise", "note": strings.Repeat("n", 2001)}))
	p.must(http.StatusNotFound, p.do("admin", "POST", "/v1/verifications/"+p.orgs["supplier"].String()+"/decision", map[string]string{"decision": "approve"}))

	// A revision, resubmitted, then approved.
	var st workflows.VerificationStatus
	p.must(http.StatusOK, p.do("admin", "POST", vpath+"/decision", map[string]string{"decision": "revise", "note": "The photo shows no production line."})).json(t, &st)
	require.Equal(t, "revision_requested", st.Status)
	require.Equal(t, 1, p.notices("verification_revision", p.orgs["supplier"].String()))
	p.must(http.StatusConflict, p.do("admin", "POST", vpath+"/decision", map[string]string{"decision": "approve"}))
	p.must(http.StatusUnprocessableEntity, p.do("supplier", "POST", "/v1/verification/submit", nil)) // nothing new uploaded
	p.must(http.StatusCreated, p.uploadDocument("supplier", "line-3.png", testPNG(t, 80, 60), map[string]string{"kind": "factory_photo"}))
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/verification/submit", nil)).json(t, &submitted)
	require.Equal(t, 2, submitted.Status.Round)
	p.must(http.StatusOK, p.do("admin", "POST", vpath+"/decision", map[string]string{"decision": "approve", "note": "Thank you."})).json(t, &st)
	require.Equal(t, "approved", st.Status)
	require.True(t, st.VerifiedUntil.Equal(certExpiry), "the badge ends with the certificate: %s", st.VerifiedUntil)

	v = p.myVerification("supplier")
	require.Equal(t, "approved", v.Current.Status)
	require.Len(t, v.Current.Documents, 4)
	require.Equal(t, 2, v.Current.Documents[3].Round)
	require.Equal(t, []string{"submitted", "revision_requested", "resubmitted", "approved"}, v.Current.actions())
	require.Equal(t, "supplier@example.com", v.Current.Trail[0].By)
	require.Equal(t, "admin@example.com", v.Current.Trail[1].By)
	require.Equal(t, "The photo shows no production line.", v.Current.Trail[1].Note)
	require.True(t, v.VerifiedUntil.Equal(certExpiry))
	require.Equal(t, 1, p.notices("verification_approved", p.orgs["supplier"].String()))

	search, product, profile = p.verifiedBadges("supplier", pid)
	assert.True(t, search, "search shows the badge")
	assert.True(t, product, "the product page shows the badge")
	require.NotNil(t, profile)
	assert.True(t, profile.Equal(certExpiry))

	// The quote comparison shows it beside an unverified supplier.
	id := p.newDeal(false, "supplier", "supplier2")
	p.must(http.StatusOK, p.do("supplier", "POST", p.path(id, "/quotes"), quoteBody()))
	p.must(http.StatusOK, p.do("supplier2", "POST", p.path(id, "/quotes"), quoteBody()))
	var cmp struct {
		Quotes []struct {
			SupplierID string `json:"supplier_id"`
			Verified   bool   `json:"verified"`
		}
	}
	p.must(http.StatusOK, p.do("buyer", "GET", p.path(id, "/quotes/comparison"), nil)).json(t, &cmp)
	require.Len(t, cmp.Quotes, 2)
	verified := map[string]bool{}
	for _, q := range cmp.Quotes {
		verified[q.SupplierID] = q.Verified
	}
	require.Equal(t, map[string]bool{p.orgs["supplier"].String(): true, p.orgs["supplier2"].String(): false}, verified)
}

// A badge ends when its time is up: here the platform's policy gives a
// badge two seconds. The supplier is reminded at once (its end is within
// 30 days), the badge goes at its end, and search and the profile stop
// showing it.
func TestAVerifiedBadgeEndsWhenItsTimeIsUp(t *testing.T) {
	p := newPlatform(t, func(d *Deps) { d.Verification = workflows.VerificationPolicy{ValidFor: 2 * time.Second} })
	pid := p.listProduct("supplier", "BOLT-V2")
	p.must(http.StatusCreated, p.uploadDocument("supplier", "licence.pdf", []byte(testPDF), map[string]string{"kind": "business_licence"}))
	p.must(http.StatusCreated, p.uploadDocument("supplier", "tour.mp4", testMP4(), map[string]string{"kind": "factory_video"}))
	var submitted struct{ ID string }
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/verification/submit", nil)).json(t, &submitted)
	before := time.Now()
	var st workflows.VerificationStatus
	p.must(http.StatusOK, p.do("admin", "POST", "/v1/verifications/"+submitted.ID+"/decision", map[string]string{"decision": "approve"})).json(t, &st)
	require.Equal(t, "approved", st.Status)
	require.WithinRange(t, st.VerifiedUntil, before.Add(2*time.Second-time.Second), time.Now().Add(2*time.Second+time.Second))

	v := p.waitForVerification("supplier", "expired")
	require.Equal(t, []string{"submitted", "approved", "expiry_reminder", "expired"}, v.actions())
	require.Equal(t, "", v.Trail[3].By, "the workflow's own deadline")
	org := p.orgs["supplier"].String()
	require.Equal(t, 1, p.notices("verification_expiring", org))
	require.Equal(t, 1, p.notices("verification_expired", org))
	search, product, profile := p.verifiedBadges("supplier", pid)
	require.False(t, search)
	require.False(t, product)
	require.Nil(t, profile)
	require.Nil(t, p.myVerification("supplier").VerifiedUntil)

	// A new submission starts a new verification.
	p.must(http.StatusCreated, p.uploadDocument("supplier", "licence.pdf", []byte(testPDF), map[string]string{"kind": "business_licence"}))
	p.must(http.StatusCreated, p.uploadDocument("supplier", "factory.jpg", testJPEG(t, 10, 10), map[string]string{"kind": "factory_photo"}))
	var again struct{ ID string }
	p.must(http.StatusCreated, p.do("supplier", "POST", "/v1/verification/submit", nil)).json(t, &again)
	require.NotEqual(t, submitted.ID, again.ID)
}

// A supplier's draft holds at most 20 documents, however many uploads
// race for the last places.
func TestVerificationDraftsAreCapped(t *testing.T) {
	p := newPlatform(t)
	photo := testJPEG(t, 8, 8)
	for i := range 18 {
		p.must(http.StatusCreated, p.uploadDocument("supplier", fmt.Sprintf("f%d.jpg", i), photo, map[string]string{"kind": "factory_photo"}))
	}
	codes := make(chan int, 6)
	for i := range 6 {
		go func() {
			codes <- p.uploadDocument("supplier", fmt.Sprintf("race%d.jpg", i), photo, map[string]string{"kind": "factory_photo"}).status
		}()
	}
	created := 0
	for range 6 {
		if <-codes == http.StatusCreated {
			created++
		}
	}
	require.Equal(t, 2, created)
	require.Equal(t, 20, p.documentsStored("supplier"))
	_, blobs := p.stored()
	require.Equal(t, 20*2, blobs, "each photo and its thumbnail; no stray blob")
	require.Len(t, p.myVerification("supplier").Drafts, 20)
}

// consoleDocument uploads a verification document through the console's
// form.
func consoleDocument(t *testing.T, b *browserless, csrf, name string, content []byte, fields map[string]string) page {
	t.Helper()
	all := map[string]string{"csrf": csrf}
	for k, v := range fields {
		all[k] = v
	}
	return consoleFile(t, b, "/app/verification/documents", name, content, all)
}

// The console: a supplier uploads and submits its documents, a refusal
// shown on the form; staff find the verification in their queue, open its
// documents, and approve it; the supplier's page, the product page and
// search then show the Verified badge. Other roles get no such pages.
func TestConsoleVerificationFromUploadToBadge(t *testing.T) {
	p := newPlatform(t)
	p.withPasswords("supplier", "admin", "buyer", "supplier2")
	pid := p.listProduct("supplier", "BOLT-C1")
	sup := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	csrf := sup.signIn("supplier")
	page := sup.do("GET", "/app/verification", nil)
	require.Equal(t, http.StatusOK, page.status)
	assert.Contains(t, page.body, `id="document-upload"`)
	assert.Contains(t, page.body, `id="no-badge"`)
	assert.Contains(t, page.body, `href="/app/verification"`)

	res := consoleDocument(t, sup, csrf, "iso.pdf", []byte(testPDF), map[string]string{"kind": "certificate", "title": "ISO 9001"})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="upload-error"`)
	assert.Contains(t, res.body, "expires_at")
	assert.Equal(t, http.StatusForbidden, consoleDocument(t, sup, "not the token", "l.pdf", []byte(testPDF), map[string]string{"kind": "business_licence"}).status)
	require.Equal(t, http.StatusSeeOther, consoleDocument(t, sup, csrf, "licence.pdf", []byte(testPDF), map[string]string{"kind": "business_licence", "expires_at": time.Now().AddDate(2, 0, 0).Format(time.DateOnly)}).status)
	res = sup.do("POST", "/app/verification/submit", url.Values{"csrf": {csrf}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="submit-error"`)
	require.Equal(t, http.StatusSeeOther, consoleDocument(t, sup, csrf, "factory.jpg", testJPEG(t, 40, 30), map[string]string{"kind": "factory_photo"}).status)
	page = sup.do("GET", "/app/verification", nil)
	assert.Contains(t, page.body, "licence.pdf")
	assert.Contains(t, page.body, "factory.jpg")
	require.Equal(t, http.StatusSeeOther, sup.do("POST", "/app/verification/submit", url.Values{"csrf": {csrf}}).status)
	v := p.waitForStep("supplier", "submitted")

	staff := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	staffCSRF := staff.signIn("admin")
	queue := staff.do("GET", "/app/verifications", nil)
	require.Equal(t, http.StatusOK, queue.status)
	assert.Contains(t, queue.body, `href="/app/verifications/`+v.ID+`"`)
	assert.Contains(t, queue.body, "supplier org")
	review := staff.do("GET", "/app/verifications/"+v.ID, nil)
	require.Equal(t, http.StatusOK, review.status)
	assert.Contains(t, review.body, `id="decision"`)
	for _, d := range v.Documents {
		assert.Contains(t, review.body, `href="/app/verification/documents/`+d.ID+`"`)
		assert.Equal(t, http.StatusOK, staff.do("GET", "/app/verification/documents/"+d.ID, nil).status)
	}
	res = staff.do("POST", "/app/verifications/"+v.ID+"/decision", url.Values{"csrf": {staffCSRF}, "decision": {"reject"}})
	assert.Equal(t, http.StatusUnprocessableEntity, res.status)
	assert.Contains(t, res.body, `id="decision-error"`)
	require.Equal(t, http.StatusSeeOther, staff.do("POST", "/app/verifications/"+v.ID+"/decision", url.Values{"csrf": {staffCSRF}, "decision": {"approve"}}).status)
	review = staff.do("GET", "/app/verifications/"+v.ID, nil)
	assert.NotContains(t, review.body, `id="decision"`)
	assert.Contains(t, review.body, "admin@example.com")

	page = sup.do("GET", "/app/verification", nil)
	assert.Contains(t, page.body, `id="badge"`)
	buyer := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	buyer.signIn("buyer")
	assert.Contains(t, buyer.do("GET", "/app/products/"+pid, nil).body, `class="verified"`)
	assert.Contains(t, buyer.do("GET", "/app/products?q=bolt", nil).body, `class="verified"`)

	// Other roles and suppliers: no such pages, no such documents.
	assert.Equal(t, http.StatusForbidden, buyer.do("GET", "/app/verification", nil).status)
	assert.Equal(t, http.StatusForbidden, buyer.do("GET", "/app/verifications", nil).status)
	assert.Equal(t, http.StatusForbidden, sup.do("GET", "/app/verifications/"+v.ID, nil).status)
	other := &browserless{t: t, base: p.url, cookies: map[string]string{}}
	other.signIn("supplier2")
	assert.Equal(t, http.StatusNotFound, other.do("GET", "/app/verification/documents/"+v.Documents[0].ID, nil).status)
}
