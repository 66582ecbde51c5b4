package mlmdserver

import (
	"fmt"
	"strconv"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// This file parses the supported subset of MLMD's filter_query (a ZetaSQL
// boolean expression); see the package documentation for the grammar.
// Anything outside it is INVALID_ARGUMENT, never silently ignored, so a
// test cannot pass on a filter that a real MLMD would evaluate differently.

// literal is a value as written in the query, typed later against the
// attribute it is compared with.
type literal struct {
	tok  token
	kind valType // vInt, vDouble, vString, vBool, or vEnum for a bare word
}

type parser struct {
	query string
	toks  []token
	pos   int
	kind  kind
	f     *filter
}

// parseFilter parses query for listing nodes of kind k. An empty query is
// a nil filter, which matches everything.
func parseFilter(query string, k kind) (*filter, error) {
	if strings.TrimSpace(query) == "" {
		return nil, nil
	}
	toks, err := lex(query)
	if err != nil {
		return nil, filterError(query, err.Error())
	}
	p := &parser{query: query, toks: toks, kind: k, f: &filter{}}
	if err := p.conjunction(); err != nil {
		return nil, err
	}
	if !p.at(tEOF, "") {
		return nil, p.unexpected()
	}
	return p.f, nil
}

func filterError(query, msg string) error {
	return errorf(codes.InvalidArgument,
		"filter_query %q: %s (this test server supports =, !=, IN, NOT IN, AND and parentheses; see package mlmdserver)", query, msg)
}

func (p *parser) fail(format string, args ...any) error {
	return filterError(p.query, fmt.Sprintf(format, args...))
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

// at reports whether the next token has the kind and, unless text is "",
// the text (case-insensitively, so keywords match in any case).
func (p *parser) at(kind tokKind, text string) bool {
	t := p.peek()
	return t.kind == kind && (text == "" || strings.EqualFold(t.text, text))
}

func (p *parser) accept(kind tokKind, text string) bool {
	if p.at(kind, text) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expect(kind tokKind, text string) error {
	if !p.accept(kind, text) {
		return p.unexpected()
	}
	return nil
}

// unsupportedKeywords are valid MLMD filter syntax that this server does
// not evaluate.
var unsupportedKeywords = []string{"OR", "NOT", "LIKE", "IS", "NULL", "BETWEEN", "EXISTS"}

func (p *parser) unexpected() error {
	t := p.peek()
	if t.kind == tEOF {
		return p.fail("unexpected end of query")
	}
	for _, kw := range unsupportedKeywords {
		if t.kind == tWord && strings.EqualFold(t.text, kw) {
			return p.fail("%s at offset %d is not supported", strings.ToUpper(t.text), t.pos)
		}
	}
	if t.kind == tOp {
		return p.fail("operator %s at offset %d is not supported", t.text, t.pos)
	}
	return p.fail("unexpected %q at offset %d", t.text, t.pos)
}

// conjunction := term { AND term }
func (p *parser) conjunction() error {
	for {
		if err := p.term(); err != nil {
			return err
		}
		if !p.accept(tWord, "AND") {
			return nil
		}
	}
}

// term := "(" conjunction ")" | predicate
func (p *parser) term() error {
	if p.accept(tPunct, "(") {
		if err := p.conjunction(); err != nil {
			return err
		}
		return p.expect(tPunct, ")")
	}
	return p.predicate()
}

// predicate := path ( "=" | "!=" | "<>" ) literal | path [NOT] IN "(" literal { "," literal } ")"
func (p *parser) predicate() error {
	start := p.peek().pos
	path, err := p.path()
	if err != nil {
		return err
	}
	rel, alias, attr, why := resolve(path, p.kind)
	if why != "" {
		return p.fail("%s (at offset %d)", why, start)
	}
	lits, negate, err := p.comparison()
	if err != nil {
		return err
	}
	pred := predicate{attr: attr, negate: negate}
	for _, lit := range lits {
		v, err := p.coerce(attr, lit)
		if err != nil {
			return err
		}
		pred.values = append(pred.values, v)
	}
	p.f.add(rel, alias, pred)
	return nil
}

// path := name { "." name }, where a name may be `back-quoted`.
func (p *parser) path() ([]string, error) {
	var segs []string
	for {
		t := p.peek()
		if t.kind == tQuoted || (t.kind == tWord && !isKeyword(t.text)) {
			segs = append(segs, p.next().text)
		} else {
			return nil, p.unexpected()
		}
		if !p.accept(tPunct, ".") {
			return segs, nil
		}
	}
}

func isKeyword(word string) bool {
	for _, kw := range append([]string{"AND", "IN", "TRUE", "FALSE"}, unsupportedKeywords...) {
		if strings.EqualFold(word, kw) {
			return true
		}
	}
	return false
}

func (p *parser) comparison() (lits []literal, negate bool, err error) {
	switch {
	case p.accept(tOp, "="):
	case p.accept(tOp, "!="), p.accept(tOp, "<>"):
		negate = true
	case p.accept(tWord, "IN"):
		lits, err = p.list()
		return lits, false, err
	case p.at(tWord, "NOT"):
		p.next()
		if err := p.expect(tWord, "IN"); err != nil {
			return nil, false, err
		}
		lits, err = p.list()
		return lits, true, err
	default:
		return nil, false, p.unexpected()
	}
	lit, err := p.literal()
	return []literal{lit}, negate, err
}

// list := "(" literal { "," literal } ")"
func (p *parser) list() ([]literal, error) {
	if err := p.expect(tPunct, "("); err != nil {
		return nil, err
	}
	var lits []literal
	for {
		lit, err := p.literal()
		if err != nil {
			return nil, err
		}
		lits = append(lits, lit)
		if !p.accept(tPunct, ",") {
			return lits, p.expect(tPunct, ")")
		}
	}
}

func (p *parser) literal() (literal, error) {
	t := p.peek()
	switch {
	case t.kind == tString:
		return literal{p.next(), vString}, nil
	case t.kind == tNumber && strings.ContainsAny(t.text, ".eE"):
		return literal{p.next(), vDouble}, nil
	case t.kind == tNumber:
		return literal{p.next(), vInt}, nil
	case t.kind == tWord && (strings.EqualFold(t.text, "TRUE") || strings.EqualFold(t.text, "FALSE")):
		return literal{p.next(), vBool}, nil
	case t.kind == tWord && !isKeyword(t.text):
		return literal{p.next(), vEnum}, nil
	}
	return literal{}, p.unexpected()
}

// coerce types a literal against the attribute it is compared with. Numbers
// compare with numbers (int with double, as in SQL), strings with strings,
// booleans with booleans, and state fields with their enum value names.
func (p *parser) coerce(a attribute, lit literal) (scalar, error) {
	text, pos := lit.tok.text, lit.tok.pos
	switch {
	case (a.t == vInt || a.t == vDouble) && lit.kind == vInt:
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return scalar{}, p.fail("bad integer %s at offset %d", text, pos)
		}
		return scalar{t: vInt, i: i}, nil
	case (a.t == vInt || a.t == vDouble) && lit.kind == vDouble:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return scalar{}, p.fail("bad number %s at offset %d", text, pos)
		}
		return scalar{t: vDouble, f: f}, nil
	case a.t == vString && lit.kind == vString:
		return scalar{t: vString, s: text}, nil
	case a.t == vBool && lit.kind == vBool:
		return scalar{t: vBool, b: strings.EqualFold(text, "TRUE")}, nil
	case a.t == vEnum && lit.kind == vEnum:
		v := a.enum.Values().ByName(protoreflect.Name(text))
		if v == nil {
			return scalar{}, p.fail("%s is not a value of %s at offset %d", text, a.enum.Name(), pos)
		}
		return scalar{t: vEnum, i: int64(v.Number())}, nil
	case lit.kind == vEnum:
		return scalar{}, p.fail("cannot compare %s %s with the unquoted word %s at offset %d", a.t, attrLabel(a), text, pos)
	}
	return scalar{}, p.fail("cannot compare %s %s with %s %s at offset %d", a.t, attrLabel(a), lit.kind, text, pos)
}

func attrLabel(a attribute) string {
	if a.prop != "" {
		return a.name + "." + a.prop
	}
	return a.name
}
