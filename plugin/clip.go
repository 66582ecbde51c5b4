package plugin

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxMessageBytes bounds a node message. Argo stores messages in the
// Workflow object, which etcd caps at about 1.5 MiB, and argument values
// are echoed in error messages. The start is kept: it names the argument.
const MaxMessageBytes = 4 << 10

// clip shortens msg to MaxMessageBytes, keeping its start and its end.
func clip(msg string) string {
	return clipTo(msg, MaxMessageBytes)
}

// short clips a value for a log line.
func short(v string) string { return clipTo(v, 256) }

func clipTo(msg string, limit int) string {
	if len(msg) <= limit {
		return msg
	}
	tail := limit / 8
	head := limit - tail - 64 // room for the marker
	h, t := cutRunes(msg[:head], false), cutRunes(msg[len(msg)-tail:], true)
	return fmt.Sprintf("%s … [%d bytes omitted] … %s", h, len(msg)-len(h)-len(t), t)
}

// cutRunes drops a partial UTF-8 sequence at the cut end of s.
func cutRunes(s string, cutAtStart bool) string {
	if cutAtStart {
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
		return s
	}
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "")
}
