// Package keyset makes and reads the cursors of keyset pages: a page
// ordered by a time and then by keys continues after the row its cursor
// names. A cursor is opaque to clients (URL-safe base64 of the row's time
// in microseconds and its keys); a cursor this package did not make is
// ErrBadCursor, never a query.
package keyset

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// ErrBadCursor means a page cursor was not made by this package, or not
// for a page with that many keys.
var ErrBadCursor = errors.New("malformed page cursor")

// MaxLen bounds a cursor's length: the ones made here for IDs of up to a
// few hundred characters are shorter.
const MaxLen = 1024

// Cursor is the row a page continues after.
type Cursor struct {
	At   time.Time
	Keys []string
}

// Encode is the cursor of the row at at with keys. Every key but the last
// must not contain "|" (IDs the platform makes do not).
func Encode(at time.Time, keys ...string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "|" + strings.Join(keys, "|")))
}

// Decode reads a cursor of a page ordered by a time and n keys, none of
// them empty. An empty cursor is the first page: ok is false.
func Decode(s string, n int) (c Cursor, ok bool, err error) {
	if s == "" {
		return Cursor{}, false, nil
	}
	if len(s) > MaxLen {
		return Cursor{}, false, ErrBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, false, ErrBadCursor
	}
	parts := strings.SplitN(string(raw), "|", n+1)
	if len(parts) != n+1 {
		return Cursor{}, false, ErrBadCursor
	}
	us, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return Cursor{}, false, ErrBadCursor
	}
	for _, k := range parts[1:] {
		if k == "" {
			return Cursor{}, false, ErrBadCursor
		}
	}
	return Cursor{At: time.UnixMicro(us).UTC(), Keys: parts[1:]}, true, nil
}
