// Package pdftext reads back, for tests, the text a PDF made by
// internal/sheet (with fpdf) shows: each string a page's text operators
// print, decoded through its font. A core font's string is Windows-1252;
// an embedded TrueType font's (Type0, Identity-H, as fpdf writes one) is
// UTF-16 character codes, mapped to glyphs by the font's CIDToGIDMap and to
// characters by its ToUnicode map, and a character shows only when the
// embedded font file has an outline for its glyph: one that would print
// blank or as a box reads as U+FFFD. It reads the plain PDFs fpdf writes,
// not PDFs in general.
package pdftext

import (
	"bytes"
	"cmp"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// DroidFont is where Debian's fonts-droid-fallback puts its font: a
// TrueType font of Chinese, Japanese and Korean (it has no Latin letters).
const DroidFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// DroidFontPath returns DroidFont, failing the test when it is not
// installed.
func DroidFontPath(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(DroidFont); err != nil {
		t.Fatalf("%v: install fonts-droid-fallback (the README's prerequisites; .ci/run does)", err)
	}
	return DroidFont
}

// Piece is a string a page shows with one text operator.
type Piece struct {
	Page int // from 1
	// X and Y are where the text starts, in points from the page's bottom
	// left corner.
	X, Y float64
	// Font is the font's BaseFont ("Helvetica", "utf8truetype"); Embedded
	// says the PDF carries the font's file (a FontFile2 stream).
	Font     string
	Embedded bool
	Text     string
}

// Text is the pieces' text as read: page by page, top to bottom, the
// pieces at one height on a line of their own, from left to right and run
// together.
func Text(pieces []Piece) string {
	pieces = slices.Clone(pieces)
	slices.SortStableFunc(pieces, func(a, b Piece) int {
		if a.Page != b.Page {
			return a.Page - b.Page
		}
		if a.Y != b.Y {
			return cmp.Compare(b.Y, a.Y)
		}
		return cmp.Compare(a.X, b.X)
	})
	var b strings.Builder
	for i, p := range pieces {
		if i > 0 && (p.Page != pieces[i-1].Page || p.Y != pieces[i-1].Y) {
			b.WriteByte('\n')
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

// Read returns the pieces of text the PDF's pages show, in the order they
// are drawn.
func Read(pdf []byte) ([]Piece, error) {
	objs, err := objects(pdf)
	if err != nil {
		return nil, err
	}
	var pieces []Piece
	fonts := map[int]*font{} // by object number
	for n, page := range pageObjects(objs) {
		resources := objs[ref(page.dict, "Resources")]
		named := map[string]int{}
		if i := strings.Index(resources.dict, "/Font <<"); i >= 0 {
			for _, m := range regexp.MustCompile(`/(\S+) (\d+) 0 R`).FindAllStringSubmatch(resources.dict[i:], -1) {
				named[m[1]], _ = strconv.Atoi(m[2])
			}
		}
		content, ok := objs[ref(page.dict, "Contents")]
		if !ok {
			return nil, fmt.Errorf("page %d has no contents", n+1)
		}
		ps, err := show(content.stream, func(name string) (*font, error) {
			num, ok := named[name]
			if !ok {
				return nil, fmt.Errorf("page %d uses font %s, which its resources lack", n+1, name)
			}
			if fonts[num] == nil {
				f, err := readFont(objs, num)
				if err != nil {
					return nil, fmt.Errorf("font %s: %w", name, err)
				}
				fonts[num] = f
			}
			return fonts[num], nil
		})
		if err != nil {
			return nil, err
		}
		for i := range ps {
			ps[i].Page = n + 1
		}
		pieces = append(pieces, ps...)
	}
	return pieces, nil
}

// EmbeddedFont is a TrueType font a PDF carries.
type EmbeddedFont struct {
	Name string
	// File is the font file (a FontFile2 stream, inflated).
	File []byte
	// Glyph is the glyph of File that prints each character, for the
	// characters the PDF maps to a glyph.
	Glyph map[rune]int
}

// Embedded returns the TrueType fonts the PDF carries.
func Embedded(pdf []byte) ([]EmbeddedFont, error) {
	objs, err := objects(pdf)
	if err != nil {
		return nil, err
	}
	var fonts []EmbeddedFont
	for n, o := range objs {
		if !strings.Contains(o.dict, "/Subtype /Type0") {
			continue
		}
		f, err := readFont(objs, n)
		if err != nil {
			return nil, err
		}
		e := EmbeddedFont{Name: f.name, File: f.file, Glyph: map[rune]int{}}
		for code, r := range f.toUnicode {
			if g := f.glyph(code); g != 0 {
				e.Glyph[r] = g
			}
		}
		fonts = append(fonts, e)
	}
	return fonts, nil
}

// object is one of the PDF's objects: its dictionary, and its stream
// (inflated) if it has one.
type object struct {
	dict   string
	stream []byte
}

func objects(pdf []byte) (map[int]object, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, errors.New("not a PDF")
	}
	objs := map[int]object{}
	for _, m := range regexp.MustCompile(`(?s)\n(\d+) 0 obj\n(.*?)\nendobj`).FindAllSubmatch(pdf, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		o := object{dict: string(m[2])}
		if dict, stream, ok := bytes.Cut(m[2], []byte("\nstream\n")); ok {
			o.dict = string(dict)
			stream, _ = bytes.CutSuffix(stream, []byte("\nendstream"))
			if strings.Contains(o.dict, "/FlateDecode") {
				zr, err := zlib.NewReader(bytes.NewReader(stream))
				if err != nil {
					return nil, fmt.Errorf("object %d: %w", n, err)
				}
				if stream, err = io.ReadAll(zr); err != nil {
					return nil, fmt.Errorf("object %d: %w", n, err)
				}
			}
			o.stream = stream
		}
		objs[n] = o
	}
	return objs, nil
}

// pageObjects are the pages in the order of the page tree's Kids.
func pageObjects(objs map[int]object) []object {
	var pages []object
	for _, o := range objs {
		if !strings.Contains(o.dict, "/Type /Pages") {
			continue
		}
		kids := regexp.MustCompile(`/Kids \[([^\]]*)\]`).FindStringSubmatch(o.dict)
		if kids == nil {
			continue
		}
		for _, m := range regexp.MustCompile(`(\d+) 0 R`).FindAllStringSubmatch(kids[1], -1) {
			n, _ := strconv.Atoi(m[1])
			pages = append(pages, objs[n])
		}
	}
	return pages
}

// ref is the object number dict refers to under key, or -1.
func ref(dict, key string) int {
	m := regexp.MustCompile(`/` + key + ` (\d+) 0 R`).FindStringSubmatch(dict)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// font decodes the strings shown in one font.
type font struct {
	name     string
	embedded bool
	// For an embedded TrueType font: cidToGID maps a character code to
	// its glyph, toUnicode to its character; outline says which glyphs
	// the embedded font file draws.
	file      []byte
	cidToGID  []byte
	toUnicode map[int]rune
	outline   func(gid int) bool
}

func readFont(objs map[int]object, num int) (*font, error) {
	o, ok := objs[num]
	if !ok {
		return nil, fmt.Errorf("no object %d", num)
	}
	f := &font{name: nameIn(o.dict, "BaseFont")}
	switch {
	case strings.Contains(o.dict, "/Subtype /Type1"):
		return f, nil
	case !strings.Contains(o.dict, "/Subtype /Type0") || !strings.Contains(o.dict, "/Encoding /Identity-H"):
		return nil, fmt.Errorf("%s is neither a core font nor a Type0 font in Identity-H", f.name)
	}
	descendant := regexp.MustCompile(`/DescendantFonts \[(\d+) 0 R\]`).FindStringSubmatch(o.dict)
	if descendant == nil {
		return nil, fmt.Errorf("%s has no descendant font", f.name)
	}
	dn, _ := strconv.Atoi(descendant[1])
	cid := objs[dn].dict
	f.cidToGID = objs[ref(cid, "CIDToGIDMap")].stream
	if f.cidToGID == nil {
		return nil, fmt.Errorf("%s has no CIDToGIDMap stream", f.name)
	}
	file := objs[ref(objs[ref(cid, "FontDescriptor")].dict, "FontFile2")].stream
	if file == nil {
		return nil, fmt.Errorf("%s has no embedded font file (FontFile2)", f.name)
	}
	f.file = file
	var err error
	if f.outline, err = outlines(file); err != nil {
		return nil, fmt.Errorf("%s's font file: %w", f.name, err)
	}
	if f.toUnicode, err = unicodeMap(objs[ref(o.dict, "ToUnicode")].stream); err != nil {
		return nil, fmt.Errorf("%s's ToUnicode: %w", f.name, err)
	}
	f.embedded = true
	return f, nil
}

// nameIn is the name dict has under key, without its slash.
func nameIn(dict, key string) string {
	m := regexp.MustCompile(`/` + key + ` /(\S+)`).FindStringSubmatch(dict)
	if m == nil {
		return ""
	}
	return m[1]
}

// outlines reads a TrueType font file's glyph locations: a glyph has an
// outline when its glyf data is not empty.
func outlines(ttf []byte) (func(gid int) bool, error) {
	if len(ttf) < 12 {
		return nil, errors.New("too short")
	}
	tables := map[string][]byte{}
	for i := range int(binary.BigEndian.Uint16(ttf[4:])) {
		rec := 12 + 16*i
		if rec+16 > len(ttf) {
			return nil, errors.New("table directory cut short")
		}
		off, size := int(binary.BigEndian.Uint32(ttf[rec+8:])), int(binary.BigEndian.Uint32(ttf[rec+12:]))
		if off+size > len(ttf) {
			return nil, fmt.Errorf("table %q beyond the file", ttf[rec:rec+4])
		}
		tables[string(ttf[rec:rec+4])] = ttf[off : off+size]
	}
	head, loca, maxp := tables["head"], tables["loca"], tables["maxp"]
	if len(head) < 54 || len(maxp) < 6 || tables["glyf"] == nil {
		return nil, errors.New("no head, maxp or glyf table")
	}
	glyphs := int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	at := func(gid int) int {
		if long {
			return int(binary.BigEndian.Uint32(loca[4*gid:]))
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*gid:]))
	}
	if (long && len(loca) < 4*(glyphs+1)) || (!long && len(loca) < 2*(glyphs+1)) {
		return nil, errors.New("loca table shorter than its glyphs")
	}
	return func(gid int) bool { return gid > 0 && gid < glyphs && at(gid+1) > at(gid) }, nil
}

// unicodeMap reads a ToUnicode CMap's bfrange and bfchar entries of
// two-byte codes.
func unicodeMap(cmap []byte) (map[int]rune, error) {
	m := map[int]rune{}
	hex := func(s string) int { n, _ := strconv.ParseUint(s, 16, 32); return int(n) }
	for _, r := range regexp.MustCompile(`<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4})>`).FindAllStringSubmatch(string(cmap), -1) {
		lo, hi, to := hex(r[1]), hex(r[2]), hex(r[3])
		for c := lo; c <= hi; c++ {
			m[c] = rune(to + c - lo)
		}
	}
	if len(m) == 0 {
		return nil, errors.New("maps no character code")
	}
	return m, nil
}

// decode is the text of a string shown in f.
func (f *font) decode(s []byte) string {
	if !f.embedded {
		return windows1252(s)
	}
	var b strings.Builder
	for i := 0; i+1 < len(s); i += 2 {
		code := int(s[i])<<8 | int(s[i+1])
		r, ok := f.toUnicode[code]
		if gid := f.glyph(code); !ok || !f.outline(gid) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (f *font) glyph(code int) int {
	if 2*code+1 >= len(f.cidToGID) {
		return 0
	}
	return int(f.cidToGID[2*code])<<8 | int(f.cidToGID[2*code+1])
}

// windows1252 decodes a core font's string (WinAnsiEncoding).
func windows1252(s []byte) string {
	const high = "€\uFFFD‚ƒ„…†‡ˆ‰Š‹Œ\uFFFDŽ\uFFFD\uFFFD‘’“”•–—˜™š›œ\uFFFDžŸ" // 0x80 to 0x9F
	table := []rune(high)
	var b strings.Builder
	for _, c := range s {
		if c >= 0x80 && c < 0xA0 {
			b.WriteRune(table[c-0x80])
		} else {
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// show runs a content stream's text operators: Tf selects a font, Td
// places the text, Tj and TJ show strings.
func show(content []byte, fontNamed func(string) (*font, error)) ([]Piece, error) {
	var pieces []Piece
	var operands []any
	var current *font
	var x, y float64
	add := func(s []byte) error {
		if current == nil {
			return errors.New("text shown before a font is selected")
		}
		pieces = append(pieces, Piece{X: x, Y: y, Font: current.name, Embedded: current.embedded, Text: current.decode(s)})
		return nil
	}
	for tok, rest, err := next(content); tok != nil || err != nil; tok, rest, err = next(rest) {
		if err != nil {
			return nil, err
		}
		op, isOp := tok.(operator)
		if !isOp {
			operands = append(operands, tok)
			continue
		}
		switch op {
		case "Tf":
			if n, ok := first[pdfName](operands); ok {
				if current, err = fontNamed(string(n)); err != nil {
					return nil, err
				}
			}
		case "Td":
			if len(operands) == 2 {
				x, _ = operands[0].(float64)
				y, _ = operands[1].(float64)
			}
		case "Tj":
			if s, ok := first[[]byte](operands); ok {
				if err := add(s); err != nil {
					return nil, err
				}
			}
		case "TJ":
			if a, ok := first[[]any](operands); ok {
				var s []byte
				for _, e := range a {
					if b, ok := e.([]byte); ok {
						s = append(s, b...)
					}
				}
				if err := add(s); err != nil {
					return nil, err
				}
			}
		}
		operands = operands[:0]
	}
	return pieces, nil
}

// first is the first of an operator's operands, if it is a T.
func first[T any](operands []any) (T, bool) {
	var zero T
	if len(operands) == 0 {
		return zero, false
	}
	v, ok := operands[0].(T)
	return v, ok
}

// The tokens of a content stream: an operator, a name (/F1), a number
// (float64), a string ([]byte) or an array ([]any).
type (
	operator string
	pdfName  string
)

// next reads the first token of s; tok is nil at its end.
func next(s []byte) (tok any, rest []byte, err error) {
	s = bytes.TrimLeft(s, " \t\r\n")
	if len(s) == 0 {
		return nil, nil, nil
	}
	switch c := s[0]; {
	case c == '(':
		return literal(s)
	case c == '[':
		var a []any
		for rest = s[1:]; ; {
			rest = bytes.TrimLeft(rest, " \t\r\n")
			if len(rest) == 0 {
				return nil, nil, errors.New("array not closed")
			}
			if rest[0] == ']' {
				return a, rest[1:], nil
			}
			var e any
			if e, rest, err = next(rest); err != nil {
				return nil, nil, err
			}
			a = append(a, e)
		}
	case c == '/':
		end := 1 + endOfWord(s[1:])
		return pdfName(s[1:end]), s[end:], nil
	case c == '<' && len(s) > 1 && s[1] != '<':
		end := bytes.IndexByte(s, '>')
		if end < 0 {
			return nil, nil, errors.New("hex string not closed")
		}
		var b []byte
		hex := bytes.Map(func(r rune) rune {
			if strings.ContainsRune(" \t\r\n", r) {
				return -1
			}
			return r
		}, s[1:end])
		for i := 0; i+1 < len(hex); i += 2 {
			n, err := strconv.ParseUint(string(hex[i:i+2]), 16, 8)
			if err != nil {
				return nil, nil, fmt.Errorf("hex string: %w", err)
			}
			b = append(b, byte(n))
		}
		return b, s[end+1:], nil
	}
	end := max(1, endOfWord(s))
	word := string(s[:end])
	if n, err := strconv.ParseFloat(word, 64); err == nil {
		return n, s[end:], nil
	}
	return operator(word), s[end:], nil
}

func endOfWord(s []byte) int {
	for i, c := range s {
		if slices.Contains([]byte(" \t\r\n()[]<>/"), c) {
			return i
		}
	}
	return len(s)
}

// literal reads a (string) with its escapes and balanced parentheses.
func literal(s []byte) (tok any, rest []byte, err error) {
	var b []byte
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					n, j := 0, i
					for ; j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7'; j++ {
						n = n*8 + int(s[j]-'0')
					}
					b = append(b, byte(n))
					i = j - 1
				} else {
					b = append(b, e)
				}
			}
		case c == '(':
			if depth > 0 {
				b = append(b, c)
			}
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return b, s[i+1:], nil
			}
			b = append(b, c)
		default:
			b = append(b, c)
		}
	}
	return nil, nil, errors.New("string not closed")
}
