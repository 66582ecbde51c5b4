package mlmdserver

import (
	"fmt"
	"strings"
	"unicode"
)

// The lexer of filter_query: identifiers, `quoted identifiers`, 'strings'
// and "strings" with backslash escapes, numbers, operators and punctuation.

type tokKind int

const (
	tEOF    tokKind = iota
	tWord           // identifier or keyword
	tQuoted         // `back-quoted identifier`
	tString         // 'string' or "string"
	tNumber
	tOp    // = != <> < <= > >=
	tPunct // . , ( )
)

type token struct {
	kind tokKind
	text string
	pos  int
}

func lex(q string) ([]token, error) {
	var toks []token
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isWordStart(c):
			j := i + 1
			for j < len(q) && isWordPart(q[j]) {
				j++
			}
			toks = append(toks, token{tWord, q[i:j], i})
			i = j
		case isNumberStart(q, i):
			j := scanNumber(q, i)
			toks = append(toks, token{tNumber, q[i:j], i})
			i = j
		case c == '\'' || c == '"' || c == '`':
			text, j, err := scanQuoted(q, i)
			if err != nil {
				return nil, err
			}
			kind := tString
			if c == '`' {
				kind = tQuoted
			}
			toks = append(toks, token{kind, text, i})
			i = j
		case strings.ContainsRune(".,()", rune(c)):
			toks = append(toks, token{tPunct, q[i : i+1], i})
			i++
		case strings.ContainsRune("=!<>", rune(c)):
			j := i + 1
			if j < len(q) && (q[j] == '=' || (c == '<' && q[j] == '>')) {
				j++
			}
			if q[i:j] == "!" {
				return nil, fmt.Errorf("unexpected '!' at offset %d", i)
			}
			toks = append(toks, token{tOp, q[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at offset %d", c, i)
		}
	}
	return append(toks, token{tEOF, "", len(q)}), nil
}

func isWordStart(c byte) bool { return c == '_' || unicode.IsLetter(rune(c)) }
func isWordPart(c byte) bool  { return isWordStart(c) || isDigit(c) }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

func isNumberStart(q string, i int) bool {
	if q[i] == '-' {
		i++
	}
	return i < len(q) && isDigit(q[i])
}

func scanNumber(q string, i int) int {
	if q[i] == '-' {
		i++
	}
	digits := func() {
		for i < len(q) && isDigit(q[i]) {
			i++
		}
	}
	digits()
	if i+1 < len(q) && q[i] == '.' && isDigit(q[i+1]) {
		i++
		digits()
	}
	if i < len(q) && (q[i] == 'e' || q[i] == 'E') {
		j := i + 1
		if j < len(q) && (q[j] == '+' || q[j] == '-') {
			j++
		}
		if j < len(q) && isDigit(q[j]) {
			i = j
			digits()
		}
	}
	return i
}

// scanQuoted reads a quoted string or identifier starting at q[i], with
// backslash escapes, and returns its text and the offset after it.
func scanQuoted(q string, i int) (string, int, error) {
	quote := q[i]
	var b strings.Builder
	for j := i + 1; j < len(q); j++ {
		switch c := q[j]; {
		case c == quote:
			return b.String(), j + 1, nil
		case c == '\\' && j+1 < len(q):
			j++
			b.WriteByte(unescape(q[j]))
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("unterminated %c at offset %d", quote, i)
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}
