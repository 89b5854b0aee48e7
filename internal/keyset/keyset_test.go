package keyset

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestACursorNamesItsRowAgain(t *testing.T) {
	at := time.Date(2026, 12, 2, 5, 40, 1, 123456789, time.UTC)
	c, ok, err := Decode(Encode(at, "deal-1", "pay|1"), 2)
	if err != nil || !ok || !c.At.Equal(at.Truncate(time.Microsecond)) || !slices.Equal(c.Keys, []string{"deal-1", "pay|1"}) {
		t.Fatalf("round trip: %+v %v %v", c, ok, err)
	}
	if _, ok, err := Decode("", 2); ok || err != nil {
		t.Fatalf("no cursor is the first page: %v %v", ok, err)
	}
}

// Whatever a client sends that this package did not make is refused.
func TestCursorsNotMadeHereAreRefused(t *testing.T) {
	enc := base64.RawURLEncoding.EncodeToString
	for name, s := range map[string]string{
		"not base64":          "%%%",
		"too long":            strings.Repeat("A", MaxLen+1),
		"too few keys":        Encode(time.Now(), "deal-1"),
		"an empty key":        enc([]byte("1700000000000000||p")),
		"no time":             enc([]byte("|deal-1|p")),
		"a time not a number": enc([]byte("soon|deal-1|p")),
		"a NUL":               "\x00",
		"a thousand pipes":    enc([]byte(strings.Repeat("|", 1000))),
	} {
		if _, ok, err := Decode(s, 2); !errors.Is(err, ErrBadCursor) || ok {
			t.Errorf("%s: %v %v", name, ok, err)
		}
	}
}
