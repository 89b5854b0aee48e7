package sheet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// trueType is a TrueType font file's tables, as subset needs them.
type trueType struct {
	tables map[string][]byte
	// glyphs is the number of glyphs, metrics the number of them with an
	// advance width of their own in hmtx (the rest have the last one's).
	glyphs, metrics int
	longLoca        bool
}

// parseTrueType reads the tables of the font file b, or says why fpdf
// cannot print with it.
func parseTrueType(b []byte) (*trueType, error) {
	if len(b) < 12 {
		return nil, errors.New("not a font file")
	}
	switch tag := string(b[:4]); {
	case tag == "OTTO":
		return nil, errors.New("an OpenType font with CFF outlines; PDFs need a TrueType font (glyf outlines), such as the .ttf of fonts-droid-fallback")
	case tag == "ttcf":
		return nil, errors.New("a font collection (.ttc); PDFs need a single TrueType font (.ttf)")
	case tag != "\x00\x01\x00\x00" && tag != "true":
		return nil, errors.New("not a TrueType font")
	}
	t := &trueType{tables: map[string][]byte{}}
	for i := range int(binary.BigEndian.Uint16(b[4:])) {
		rec := 12 + 16*i
		if rec+16 > len(b) {
			return nil, errors.New("its table directory is cut short")
		}
		off, size := int(binary.BigEndian.Uint32(b[rec+8:])), int(binary.BigEndian.Uint32(b[rec+12:]))
		if off+size > len(b) {
			return nil, fmt.Errorf("its table %q lies beyond the file", b[rec:rec+4])
		}
		t.tables[string(b[rec:rec+4])] = b[off : off+size]
	}
	for _, name := range []string{"cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post"} {
		if t.tables[name] == nil {
			return nil, fmt.Errorf("it has no %s table", name)
		}
	}
	head, hhea, maxp, post := t.tables["head"], t.tables["hhea"], t.tables["maxp"], t.tables["post"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 || len(post) < 32 {
		return nil, errors.New("its head, hhea, maxp or post table is cut short")
	}
	t.glyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	t.metrics = int(binary.BigEndian.Uint16(hhea[34:]))
	t.longLoca = binary.BigEndian.Uint16(head[50:]) == 1
	locaSize := 2 * (t.glyphs + 1)
	if t.longLoca {
		locaSize *= 2
	}
	if t.metrics < 1 || t.metrics > t.glyphs || len(t.tables["hmtx"]) < 2*t.glyphs+2*t.metrics || len(t.tables["loca"]) < locaSize {
		return nil, errors.New("its hmtx or loca table is shorter than its glyphs")
	}
	if !hasUnicodeFormat4(t.tables["cmap"]) {
		return nil, errors.New("it has no Unicode character map of format 4")
	}
	return t, nil
}

// hasUnicodeFormat4 reports whether a cmap table has a subtable fpdf
// reads: format 4, Windows Unicode (3, 1) or any Unicode platform (0).
func hasUnicodeFormat4(cmap []byte) bool {
	if len(cmap) < 4 {
		return false
	}
	for i := range int(binary.BigEndian.Uint16(cmap[2:])) {
		rec := 4 + 8*i
		if rec+8 > len(cmap) {
			return false
		}
		platform, encoding := binary.BigEndian.Uint16(cmap[rec:]), binary.BigEndian.Uint16(cmap[rec+2:])
		off := int(binary.BigEndian.Uint32(cmap[rec+4:]))
		if (platform == 3 && encoding == 1) || platform == 0 {
			if off+2 <= len(cmap) && binary.BigEndian.Uint16(cmap[off:]) == 4 {
				return true
			}
		}
	}
	return false
}

// glyph is glyph g's outline data.
func (t *trueType) glyph(g int) ([]byte, error) {
	loca, glyf := t.tables["loca"], t.tables["glyf"]
	var from, to int
	if t.longLoca {
		from, to = int(binary.BigEndian.Uint32(loca[4*g:])), int(binary.BigEndian.Uint32(loca[4*g+4:]))
	} else {
		from, to = 2*int(binary.BigEndian.Uint16(loca[2*g:])), 2*int(binary.BigEndian.Uint16(loca[2*g+2:]))
	}
	if from > to || to > len(glyf) {
		return nil, fmt.Errorf("glyph %d lies beyond the glyf table", g)
	}
	return glyf[from:to], nil
}

// components are where a composite glyph names the glyphs it is made of
// (byte offsets into data of their glyph IDs); none for a simple glyph.
func components(data []byte) ([]int, error) {
	if len(data) < 10 || int16(binary.BigEndian.Uint16(data)) >= 0 {
		return nil, nil
	}
	var at []int
	for p := 10; ; {
		if p+4 > len(data) {
			return nil, errors.New("a composite glyph is cut short")
		}
		flags := binary.BigEndian.Uint16(data[p:])
		at = append(at, p+2)
		p += 4 + 2 // flags, glyph, and two byte arguments
		if flags&0x0001 != 0 {
			p += 2 // the arguments are words
		}
		switch {
		case flags&0x0008 != 0:
			p += 2 // a scale
		case flags&0x0040 != 0:
			p += 4 // an x and a y scale
		case flags&0x0080 != 0:
			p += 8 // a two by two transformation
		}
		if flags&0x0020 == 0 { // no more components
			return at, nil
		}
	}
}

// subset is the font cut down to the glyphs of the given characters (and
// the glyphs those are made of), renumbered, with a character map of
// those characters alone: what fpdf reads of a font is then a few
// kilobytes, not the whole. glyphOf gives each character's glyph in the
// whole font, 0 for none.
func (t *trueType) subset(chars []rune, glyphOf func(rune) int) ([]byte, error) {
	type mapping struct{ char, glyph uint16 }
	var cmap []mapping
	renumbered := map[int]int{0: 0}
	order := []int{0}
	take := func(g int) int {
		n, ok := renumbered[g]
		if !ok {
			n = len(order)
			renumbered[g] = n
			order = append(order, g)
		}
		return n
	}
	chars = slices.Clone(chars)
	slices.Sort(chars)
	for _, r := range slices.Compact(chars) {
		if g := glyphOf(r); g > 0 && g < t.glyphs && r < 0xFFFF {
			cmap = append(cmap, mapping{uint16(r), uint16(take(g))})
		}
	}
	// The glyphs, those composite glyphs are made of appended as they
	// come, with their new numbers.
	var glyf []byte
	loca := make([]byte, 0, 4*len(order)+4)
	hmtx := make([]byte, 0, 4*len(order))
	metrics := t.tables["hmtx"]
	for i := 0; i < len(order); i++ {
		g := order[i]
		data, err := t.glyph(g)
		if err != nil {
			return nil, err
		}
		at, err := components(data)
		if err != nil {
			return nil, fmt.Errorf("glyph %d: %w", g, err)
		}
		if len(at) > 0 {
			data = slices.Clone(data)
			for _, p := range at {
				c := int(binary.BigEndian.Uint16(data[p:]))
				if c >= t.glyphs {
					return nil, fmt.Errorf("glyph %d is made of glyph %d, which the font lacks", g, c)
				}
				binary.BigEndian.PutUint16(data[p:], uint16(take(c)))
			}
		}
		loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
		glyf = append(glyf, data...)
		glyf = append(glyf, make([]byte, (4-len(data)%4)%4)...)
		// Its advance width and left side bearing.
		if g < t.metrics {
			hmtx = append(hmtx, metrics[4*g:4*g+4]...)
		} else {
			hmtx = append(hmtx, metrics[4*t.metrics-4:4*t.metrics-2]...)
			hmtx = append(hmtx, metrics[4*t.metrics+2*(g-t.metrics):][:2]...)
		}
	}
	loca = binary.BigEndian.AppendUint32(loca, uint32(len(glyf)))
	if len(order) > 0xFFFF {
		return nil, errors.New("too many glyphs")
	}

	// A format 4 character map for Windows Unicode (3, 1): a segment for
	// each character, then the closing one at 0xFFFF.
	n := len(cmap) + 1
	if 16+8*n > 0xFFFF {
		return nil, errors.New("too many characters")
	}
	sub := binary.BigEndian.AppendUint16(nil, 4)
	pow := 1 << (bits.Len(uint(n)) - 1)
	for _, v := range []int{16 + 8*n, 0, 2 * n, 2 * pow, bits.Len(uint(pow)) - 1, 2*n - 2*pow} {
		sub = binary.BigEndian.AppendUint16(sub, uint16(v))
	}
	for _, m := range cmap {
		sub = binary.BigEndian.AppendUint16(sub, m.char) // its segment's end
	}
	sub = binary.BigEndian.AppendUint16(sub, 0xFFFF)
	sub = binary.BigEndian.AppendUint16(sub, 0) // reserved
	for _, m := range cmap {
		sub = binary.BigEndian.AppendUint16(sub, m.char) // and start
	}
	sub = binary.BigEndian.AppendUint16(sub, 0xFFFF)
	for _, m := range cmap {
		sub = binary.BigEndian.AppendUint16(sub, m.glyph-m.char) // glyph = char + delta, modulo 65536
	}
	sub = binary.BigEndian.AppendUint16(sub, 1)
	sub = append(sub, make([]byte, 2*n)...) // no range offsets

	head := slices.Clone(t.tables["head"])
	binary.BigEndian.PutUint32(head[8:], 0)  // checksum adjustment
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := slices.Clone(t.tables["hhea"])
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(order)))
	maxp := slices.Clone(t.tables["maxp"])
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(order)))
	post := slices.Clone(t.tables["post"][:32])
	binary.BigEndian.PutUint32(post, 0x00030000) // no glyph names
	tables := map[string][]byte{
		"cmap": append([]byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}, sub...),
		"glyf": glyf, "head": head, "hhea": hhea, "hmtx": hmtx, "loca": loca, "maxp": maxp, "post": post,
	}
	// Unchanged: the names, the metrics fpdf reads, and what hinting the
	// glyphs' instructions may call on.
	for _, name := range []string{"name", "OS/2", "cvt ", "fpgm", "prep", "gasp"} {
		if data := t.tables[name]; data != nil {
			tables[name] = data
		}
	}
	return assemble(tables), nil
}

// assemble writes a TrueType font file of the tables.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	size := 12 + 16*len(tables)
	for tag, data := range tables {
		tags = append(tags, tag)
		size += (len(data) + 3) &^ 3
	}
	slices.SortFunc(tags, strings.Compare)
	out := make([]byte, 0, size)
	pow := 1 << (bits.Len(uint(len(tables))) - 1)
	out = binary.BigEndian.AppendUint32(out, 0x00010000)
	for _, v := range []int{len(tables), 16 * pow, bits.Len(uint(pow)) - 1, 16*len(tables) - 16*pow} {
		out = binary.BigEndian.AppendUint16(out, uint16(v))
	}
	offset := 12 + 16*len(tables)
	for _, tag := range tags {
		data := tables[tag]
		out = append(out, tag...)
		out = binary.BigEndian.AppendUint32(out, checksum(data))
		out = binary.BigEndian.AppendUint32(out, uint32(offset))
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		offset += (len(data) + 3) &^ 3
	}
	for _, tag := range tags {
		out = append(out, tables[tag]...)
		out = append(out, make([]byte, (4-len(tables[tag])%4)%4)...)
	}
	return out
}

// checksum is a TrueType table's checksum: the sum of its 32-bit words.
func checksum(data []byte) uint32 {
	var sum uint32
	for i := 0; i < len(data); i += 4 {
		var word [4]byte
		copy(word[:], data[i:])
		sum += binary.BigEndian.Uint32(word[:])
	}
	return sum
}
