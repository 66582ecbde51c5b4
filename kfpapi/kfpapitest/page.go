package kfpapitest

import (
	"encoding/base64"
	"encoding/json"
	"slices"
)

// KFP's list defaults: 0 means 20, more than 200 means 200.
const (
	defaultPageSize = 20
	maxPageSize     = 200
)

func pageSize(n int32) (int, error) {
	switch {
	case n < 0:
		return 0, invalid("page_size must not be negative")
	case n == 0:
		return defaultPageSize, nil
	case n > maxPageSize:
		return maxPageSize, nil
	}
	return int(n), nil
}

// token is the opaque page token: the position of the last item answered
// (keyset paging, as KFP's, so that items created between pages neither
// repeat nor go missing) and the query it belongs to.
type token struct {
	Query string `json:"q"`
	Seq   int    `json:"s"`
}

func encodeToken(query string, seq int) string {
	b, _ := json.Marshal(token{Query: query, Seq: seq})
	return base64.RawURLEncoding.EncodeToString(b)
}

// page cuts items (sorted, with seqOf giving each one's position) after the
// token's item. The token must come from the same query.
func page[T any](items []T, seqOf func(T) int, query, pageToken string, size int) ([]T, string, error) {
	start := 0
	if pageToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(pageToken)
		var tok token
		if err == nil {
			err = json.Unmarshal(raw, &tok)
		}
		if err != nil || tok.Query != query {
			return nil, "", invalid("invalid page_token for this request")
		}
		i := slices.IndexFunc(items, func(it T) bool { return seqOf(it) == tok.Seq })
		if i < 0 {
			return nil, "", invalid("page_token names an item that no longer matches")
		}
		start = i + 1
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = encodeToken(query, seqOf(items[end-1]))
	}
	return items[start:end], next, nil
}
