package sheet

import (
	"strings"
	"unicode"
)

// fontText is a text as a document prints it, character by character,
// for measuring it and breaking it into lines.
type fontText struct {
	// style ("" or "B") and size are the text's font's.
	style string
	size  float64
	// runes are the characters as printed ("?" for one neither font has),
	// for where lines may break; inFont[i] says rune i prints in the
	// TrueType font rather than in Helvetica.
	runes  []rune
	inFont []bool
	// enc is the text as the fonts take it, Windows-1252 for Helvetica's
	// characters and UTF-8 for the TrueType font's: character i is
	// enc[at[i]:at[i+1]], width[i] wide.
	enc   string
	at    []int
	width []float64
	// dots is the width of "...", which ends a cut text.
	dots float64
}

// textLine is a line of a fontText: characters [from, to), and "..." after
// them when the text is cut there.
type textLine struct {
	from, to int
	dots     bool
}

// text is characters [from, to) as their fonts take them.
func (t fontText) text(from, to int) string { return t.enc[t.at[from]:t.at[to]] }

// widthOf is the width of characters [from, to).
func (t fontText) widthOf(from, to int) float64 {
	w := 0.0
	for _, cw := range t.width[from:to] {
		w += cw
	}
	return w
}

// wrap breaks the text into lines no wider than room: at "\n", at spaces
// and next to a Chinese, Japanese or Korean character (see
// canBreakBefore), and inside a word only when the word alone is wider
// than room. A line is a range of characters, without the spaces it was
// broken at; there is at least one.
func (t fontText) wrap(room float64) []textLine {
	var lines []textLine
	from := 0
	for i := 0; i <= len(t.runes); i++ {
		if i == len(t.runes) || t.runes[i] == '\n' {
			lines = t.wrapLine(lines, from, i, room)
			from = i + 1
		}
	}
	return lines
}

// wrapLine appends to lines those of characters [from, to), which hold no
// "\n".
func (t fontText) wrapLine(lines []textLine, from, to int, room float64) []textLine {
	start, brk, w := from, -1, 0.0
	for i := from; i < to; i++ {
		r := t.runes[i]
		if i > start && canBreakBefore(t.runes[i-1], r) {
			brk = i
		}
		w += t.width[i]
		if w <= room || r == ' ' || i == start {
			continue
		}
		end := i // no break since start: the word alone is too wide
		if brk > start {
			end = brk
		}
		lines = append(lines, textLine{from: start, to: t.trimRight(start, end)})
		for start = end; start < to && t.runes[start] == ' '; start++ {
		}
		brk, w = -1, 0
		i = start - 1
	}
	return append(lines, textLine{from: start, to: t.trimRight(start, to)})
}

// trimRight is the end of characters [from, to) without trailing spaces.
func (t fontText) trimRight(from, to int) int {
	for to > from && t.runes[to-1] == ' ' {
		to--
	}
	return to
}

// widestWord is the width of the widest run of characters no line may
// break inside.
func (t fontText) widestWord() float64 {
	widest, w := 0.0, 0.0
	for i, r := range t.runes {
		if r == ' ' || r == '\n' || (i > 0 && canBreakBefore(t.runes[i-1], r)) {
			w = 0
		}
		if r != ' ' && r != '\n' {
			w += t.width[i]
			widest = max(widest, w)
		}
	}
	return widest
}

// longestLine is the width of the widest of the text's lines (at "\n"),
// each counted up to its first n characters.
func (t fontText) longestLine(n int) float64 {
	longest := 0.0
	from := 0
	for i := 0; i <= len(t.runes); i++ {
		if i == len(t.runes) || t.runes[i] == '\n' {
			longest = max(longest, t.widthOf(from, min(i, from+n)))
			from = i + 1
		}
	}
	return longest
}

// canBreakBefore reports whether a line may break between prev and r: after
// a space (which the line then drops), or before or after a Chinese,
// Japanese or Korean character, which are written without spaces, except
// before closing punctuation and after opening punctuation ("深圳，" or
// "（深" stay together).
func canBreakBefore(prev, r rune) bool {
	switch {
	case r == ' ':
		return false
	case prev == ' ':
		return true
	case strings.ContainsRune(noBreakBefore, r) || strings.ContainsRune(noBreakAfter, prev):
		return false
	}
	return wide(r) || wide(prev)
}

// Punctuation that does not begin a line (closing), or end one (opening),
// beside Chinese, Japanese or Korean text.
const (
	noBreakBefore = "，。、；：？！）」』】〕〉》”’…・ー〜．,.;:!?)]}%％］｝"
	noBreakAfter  = "（「『【〔〈《“‘([{［｛"
)

// wide reports whether r is a Chinese, Japanese or Korean character or
// punctuation, which a line may break before or after.
func wide(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) ||
		(r >= 0x3000 && r <= 0x303F) || (r >= 0xFF00 && r <= 0xFFEF)
}
