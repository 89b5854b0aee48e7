package bounds

import (
	"errors"
	"strings"
	"testing"
)

func TestTextAndLineRefuseControlCharactersAndLongValues(t *testing.T) {
	cases := []struct {
		name      string
		s         string
		max       int
		multiline bool
		ok        bool
	}{
		{"plain", "M8 bolts, zinc", 20, false, true},
		{"chinese counts characters not bytes", strings.Repeat("螺", 20), 20, false, true},
		{"one character too many", strings.Repeat("螺", 21), 20, false, false},
		{"NUL", "a\x00b", 20, true, false},
		{"escape", "a\x1bb", 20, true, false},
		{"DEL", "a\x7fb", 20, true, false},
		{"C1 control", "a\u0085b", 20, true, false},
		{"line separator", "a\u2028b", 20, true, false},
		{"carriage return", "a\r\nb", 20, true, false},
		{"newline and tab in text", "a\n\tb", 20, true, true},
		{"newline in a line", "a\nb", 20, false, false},
		{"tab in a line", "a\tb", 20, false, false},
		{"invalid UTF-8", "a\xffb", 20, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			check := Line
			if c.multiline {
				check = Text
			}
			err := check("note", c.s, c.max)
			if (err == nil) != c.ok {
				t.Fatalf("%q: err = %v, want ok=%v", c.s, err, c.ok)
			}
			var be *Error
			if err != nil && (!errors.As(err, &be) || be.Field != "note") {
				t.Fatalf("error %v does not name the field", err)
			}
		})
	}
}

func TestRequiredRefusesBlank(t *testing.T) {
	if err := Required("reason", " \n", 10, true); err == nil {
		t.Fatal("blank reason accepted")
	}
	if err := Required("reason", "late", 10, true); err != nil {
		t.Fatal(err)
	}
}

func TestListCountsEntries(t *testing.T) {
	if err := List("evidence", 21, 20); err == nil || !strings.Contains(err.Error(), "at most 20") {
		t.Fatalf("21 of 20 entries: %v", err)
	}
	if err := List("evidence", 20, 20); err != nil {
		t.Fatal(err)
	}
}

func TestCleanMakesOutsideTextSafe(t *testing.T) {
	got := Clean("Hub\x00 \xff scan\r\n"+strings.Repeat("x", 100), 20)
	if err := Text("x", got, 20); err != nil {
		t.Fatalf("Clean left %q, which fails the rules: %v", got, err)
	}
	if !strings.HasPrefix(got, "Hub  ") {
		t.Fatalf("Clean = %q", got)
	}
}
