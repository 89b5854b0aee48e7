package webhooks

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestASignatureVerifiesAndNothingElseDoes(t *testing.T) {
	secret, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("secret %q", secret)
	}
	other, _ := NewSecret()
	if other == secret {
		t.Fatal("two secrets alike")
	}
	at := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"evt_1","type":"quote_submitted"}`)
	h := Sign(secret, at, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") {
		t.Fatalf("header %q", h)
	}
	if err := Verify(secret, h, body, 0, at.Add(time.Minute)); err != nil {
		t.Fatalf("a good signature: %v", err)
	}
	cases := []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"another secret", other, h, body, at, ErrSignatureMismatch},
		{"a changed body", secret, h, []byte(`{"id":"evt_1","type":"quote_accepted"}`), at, ErrSignatureMismatch},
		{"a body with a byte more", secret, h, append(body, ' '), at, ErrSignatureMismatch},
		{"a changed time", secret, strings.Replace(h, "t=1800000000", "t=1800000001", 1), body, at, ErrSignatureMismatch},
		{"too old", secret, h, body, at.Add(DefaultTolerance + time.Second), ErrSignatureTooOld},
		{"from the future", secret, h, body, at.Add(-DefaultTolerance - time.Second), ErrSignatureTooOld},
		{"no signature", secret, "t=1800000000", body, at, ErrBadSignatureHeader},
		{"no time", secret, strings.Split(h, ",")[1], body, at, ErrBadSignatureHeader},
		{"empty", secret, "", body, at, ErrBadSignatureHeader},
		{"garbage", secret, "v1", body, at, ErrBadSignatureHeader},
		{"a time that is no number", secret, "t=soon," + strings.Split(h, ",")[1], body, at, ErrBadSignatureHeader},
	}
	for _, c := range cases {
		if err := Verify(c.secret, c.header, c.body, 0, c.now); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// During a rotation a header may carry the old secret's signature too.
	both := h + ",v1=" + strings.Split(Sign(other, at, body), "v1=")[1]
	if err := Verify(other, both, body, 0, at); err != nil {
		t.Errorf("the second of two signatures: %v", err)
	}
}

func TestEventIDsAreStablePerNotification(t *testing.T) {
	a, b := EventID("deal-1/notify/1"), EventID("deal-1/notify/2")
	if a == b || a != EventID("deal-1/notify/1") || !strings.HasPrefix(a, "evt_") || len(a) != 28 {
		t.Fatalf("event IDs %q %q", a, b)
	}
}

// A failing delivery is tried again with gaps that grow to MaxGap, for at
// least 24 hours before it is given up.
func TestRetryGapsGrowAndLastPastADay(t *testing.T) {
	var total time.Duration
	prev := time.Duration(0)
	attempts := 0
	for a := int32(1); total < GiveUpAfter; a++ {
		g := Gap(a)
		if g < prev || g > MaxGap {
			t.Fatalf("gap %d = %v after %v", a, g, prev)
		}
		if a > 1 && prev < MaxGap && g != 2*prev && g != MaxGap {
			t.Fatalf("gap %d = %v does not double %v", a, g, prev)
		}
		prev, total = g, total+g
		attempts++
	}
	if GiveUpAfter < 24*time.Hour || DisableAfter < 24*time.Hour {
		t.Fatalf("given up after %v, disabled after %v: want at least a day", GiveUpAfter, DisableAfter)
	}
	if attempts < 15 || attempts > 30 {
		t.Fatalf("%d attempts over %v", attempts, GiveUpAfter)
	}
}

func TestEndpointURLs(t *testing.T) {
	ok := []string{"https://erp.buyer.example/hooks/tradeloop", "https://93.184.216.34/hook", "https://[2606:4700::1111]/h", "https://erp.example:8443/a?b=c"}
	for _, u := range ok {
		if err := CheckURL(u, false); err != nil {
			t.Errorf("%s refused: %v", u, err)
		}
	}
	bad := []string{
		"", "http://erp.example/hook", "ftp://erp.example/", "javascript:alert(1)", "https:///nohost", "/relative/path", "erp.example/hook",
		"https://user:pass@erp.example/", "https://erp.example/a b", "https://erp.example/\x00", "https://erp.example/\u0085",
		"https://erp.example/#frag", "https://erp.example/" + strings.Repeat("a", MaxURL),
		"https://127.0.0.1/", "https://10.0.0.5/", "https://192.168.1.1/", "https://172.16.0.1/", "https://169.254.169.254/latest/meta-data",
		"https://[::1]/", "https://[fe80::1]/", "https://0.0.0.0/", "https://100.64.0.1/", "https://[::ffff:127.0.0.1]/", "https://[64:ff9b::a00:1]/",
	}
	for _, u := range bad {
		if err := CheckURL(u, false); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8099/hook", "http://localhost/hook"} {
		if err := CheckURL(u, true); err != nil {
			t.Errorf("%s refused with local endpoints allowed: %v", u, err)
		}
	}
}
