package apikey

import (
	"strings"
	"testing"
)

func TestNewKeyParsesToItsHash(t *testing.T) {
	k, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Plain, "tl_") || k.Prefix != k.Plain[:PrefixLen] {
		t.Fatalf("key %q prefix %q", k.Plain, k.Prefix)
	}
	h, err := Parse(k.Plain)
	if err != nil {
		t.Fatalf("parse own key: %v", err)
	}
	if h != k.Hash {
		t.Fatal("hash of parsed key differs from the stored hash")
	}
	other, _ := New()
	if other.Plain == k.Plain || other.Hash == k.Hash {
		t.Fatal("two keys are equal")
	}
}

func TestParseRejectsMalformedKeys(t *testing.T) {
	k, _ := New()
	for _, bad := range []string{
		"",
		"Bearer " + k.Plain,
		k.Plain[:len(k.Plain)-1],
		k.Plain + "a",
		"xx_" + k.Plain[3:],
		k.Plain[:10] + "!" + k.Plain[11:],
	} {
		if _, err := Parse(bad); err != ErrMalformed {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}
