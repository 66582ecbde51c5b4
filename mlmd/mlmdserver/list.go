package mlmdserver

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"

	mlmd "github.com/kubeflow/pipelines/third_party/ml-metadata/go/ml_metadata"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
)

// maxPageSize is MLMD's upper bound on max_result_size.
const maxPageSize = 100

type orderField = mlmd.ListOperationOptions_OrderByField_Field

// listPlan is one validated ListOperationOptions.
type listPlan struct {
	opts   *mlmd.ListOperationOptions
	size   int
	field  orderField
	asc    bool
	filter *filter
	after  *mlmd.ListOperationNextPageToken // nil on the first page
}

// planList validates options the way MLMD does: a positive page size (the
// proto2 default is 20; larger values are capped at 100), an order field of
// ID, CREATE_TIME or LAST_UPDATE_TIME, a filter in the supported subset and
// a page token issued for the same ordering.
func planList(k kind, opts *mlmd.ListOperationOptions) (*listPlan, error) {
	p := &listPlan{
		opts:  opts,
		size:  int(min(opts.GetMaxResultSize(), maxPageSize)),
		field: opts.GetOrderByField().GetField(),
		asc:   opts.GetOrderByField().GetIsAsc(),
	}
	if opts.GetMaxResultSize() <= 0 {
		return nil, errorf(codes.InvalidArgument, "max_result_size must be greater than 0, got %d", opts.GetMaxResultSize())
	}
	switch p.field {
	case mlmd.ListOperationOptions_OrderByField_ID, mlmd.ListOperationOptions_OrderByField_CREATE_TIME,
		mlmd.ListOperationOptions_OrderByField_LAST_UPDATE_TIME:
	default:
		return nil, errorf(codes.InvalidArgument, "unsupported order_by_field %v", p.field)
	}
	var err error
	if p.filter, err = parseFilter(opts.GetFilterQuery(), k); err != nil {
		return nil, err
	}
	if opts.GetNextPageToken() != "" {
		if p.after, err = decodeToken(opts.GetNextPageToken()); err != nil {
			return nil, err
		}
		prev := p.after.GetSetOptions().GetOrderByField()
		if prev.GetField() != p.field || prev.GetIsAsc() != p.asc {
			return nil, errorf(codes.InvalidArgument, "ListOperationOptions ordering differs from the one the next_page_token was issued for")
		}
	}
	return p, nil
}

// listNodes returns one page of the candidate rows that pass the filter,
// and the token for the next page ("" on the last page).
func listNodes[T node](st *store, t *nodeTable[T], ids []int64, opts *mlmd.ListOperationOptions) ([]T, string, error) {
	p, err := planList(t.kind, opts)
	if err != nil {
		return nil, "", err
	}
	var rows []T
	for _, id := range ids {
		row, ok := t.get(id)
		if ok && p.isAfterToken(row) && p.filter.match(st, t.kind, row) {
			rows = append(rows, row)
		}
	}
	slices.SortFunc(rows, func(a, b T) int { return p.compare(a, b) })
	token := ""
	if len(rows) > p.size {
		rows = rows[:p.size]
		if token, err = p.nextToken(asNodes(rows)); err != nil {
			return nil, "", err
		}
	}
	out := make([]T, 0, len(rows))
	for _, row := range rows {
		out = append(out, readNode(st, t, row))
	}
	return out, token, nil
}

func asNodes[T node](rows []T) []node {
	out := make([]node, len(rows))
	for i, row := range rows {
		out[i] = row
	}
	return out
}

func (p *listPlan) key(n node) int64 {
	switch p.field {
	case mlmd.ListOperationOptions_OrderByField_CREATE_TIME:
		return n.GetCreateTimeSinceEpoch()
	case mlmd.ListOperationOptions_OrderByField_LAST_UPDATE_TIME:
		return n.GetLastUpdateTimeSinceEpoch()
	default:
		return n.GetId()
	}
}

// compare orders by the order field, then by id, both in the requested
// direction, as MLMD's ORDER BY does.
func (p *listPlan) compare(a, b node) int {
	c := cmp.Or(cmp.Compare(p.key(a), p.key(b)), cmp.Compare(a.GetId(), b.GetId()))
	if p.asc {
		return c
	}
	return -c
}

// isAfterToken reports whether n belongs after the previous page. For
// LAST_UPDATE_TIME, MLMD lists the ids already returned at the boundary
// time instead of an id offset, because update times move between calls.
func (p *listPlan) isAfterToken(n node) bool {
	if p.after == nil {
		return true
	}
	k, off := p.key(n), p.after.GetFieldOffset()
	switch p.field {
	case mlmd.ListOperationOptions_OrderByField_LAST_UPDATE_TIME:
		if slices.Contains(p.after.GetListedIds(), n.GetId()) {
			return false
		}
		return (p.asc && k >= off) || (!p.asc && k <= off)
	default:
		c := cmp.Or(cmp.Compare(k, off), cmp.Compare(n.GetId(), p.after.GetIdOffset()))
		return (p.asc && c > 0) || (!p.asc && c < 0)
	}
}

// nextToken encodes where the page ended, in MLMD's format: a web-safe
// base64 ListOperationNextPageToken carrying the options of the first call.
func (p *listPlan) nextToken(page []node) (string, error) {
	last := page[len(page)-1]
	tok := &mlmd.ListOperationNextPageToken{
		FieldOffset: proto.Int64(p.key(last)),
		IdOffset:    proto.Int64(last.GetId()),
		SetOptions:  cloneOf(p.opts),
	}
	tok.SetOptions.NextPageToken = nil
	if p.field == mlmd.ListOperationOptions_OrderByField_LAST_UPDATE_TIME {
		tok.ListedIds = p.listedAt(page, p.key(last))
	}
	b, err := proto.Marshal(tok)
	if err != nil {
		return "", errorf(codes.Internal, "encoding next_page_token: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// listedAt returns the ids already returned whose key equals off.
func (p *listPlan) listedAt(page []node, off int64) []int64 {
	var ids []int64
	if p.after != nil && p.after.GetFieldOffset() == off {
		ids = slices.Clone(p.after.GetListedIds())
	}
	for _, n := range page {
		if p.key(n) == off {
			ids = append(ids, n.GetId())
		}
	}
	return ids
}

func decodeToken(s string) (*mlmd.ListOperationNextPageToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, errorf(codes.InvalidArgument, "failed to decode next_page_token: %v", err)
	}
	tok := &mlmd.ListOperationNextPageToken{}
	if err := proto.Unmarshal(b, tok); err != nil {
		return nil, errorf(codes.InvalidArgument, "failed to parse next_page_token: %v", err)
	}
	return tok, nil
}
