// Package bounds holds the platform's rules for text and lists that a party
// writes: valid UTF-8, no NUL or other
// control characters but newline and tab in free text, none at all in short
// codes, a maximum length in characters and a maximum count per list. The
// API checks them before it sends anything, and the workflows check them
// again, so no client can bypass them.
package bounds

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error names the field that broke a rule and the rule.
type Error struct {
	Field   string
	Problem string
}

func (e *Error) Error() string { return e.Field + " " + e.Problem }

func fail(field, format string, args ...any) error {
	return &Error{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Text checks free text (notes, messages, reasons): valid UTF-8 of at most
// max characters, with no control character but newline and tab.
func Text(field, s string, max int) error {
	return check(field, s, max, true)
}

// Line checks a single line (names, codes, tracking numbers): valid UTF-8 of
// at most max characters and no control character at all.
func Line(field, s string, max int) error {
	return check(field, s, max, false)
}

// Required is Line or Text for a value that must not be blank.
func Required(field, s string, max int, multiline bool) error {
	if strings.TrimSpace(s) == "" {
		return fail(field, "is required")
	}
	return check(field, s, max, multiline)
}

func check(field, s string, max int, multiline bool) error {
	if !utf8.ValidString(s) {
		return fail(field, "is not valid UTF-8")
	}
	n := 0
	for _, r := range s {
		n++
		if r == '\n' || r == '\t' {
			if !multiline {
				return fail(field, "must be a single line without tabs")
			}
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return fail(field, "contains the control character %U", r)
		}
	}
	if n > max {
		return fail(field, "is %d characters long; at most %d are allowed", n, max)
	}
	return nil
}

// List checks a list's length.
func List(field string, n, max int) error {
	if n > max {
		return fail(field, "has %d entries; at most %d are allowed", n, max)
	}
	return nil
}

// Clean makes text from outside the platform (a carrier's scan, a payment
// provider's message) safe to store: invalid bytes and control characters
// but newline and tab become spaces, and it is cut to max characters.
func Clean(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, " ") {
		if n == max {
			break
		}
		if unicode.IsControl(r) && r != '\n' && r != '\t' || r == '\u2028' || r == '\u2029' {
			r = ' '
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
