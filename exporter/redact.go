package exporter

import (
	"cmp"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Redaction of secrets from text a provider or the transport produced.
// Providers echo keys in their errors, whole or masked: Stripe answers a
// wrong key with "Invalid API Key provided: sk_t******-777" (its first and
// last four characters around asterisks), others URL-encode it in a
// query string or send it back in an Authorization header's base64. Each
// form is replaced with "<secret>".

// redacted replaces each known form of secrets in s (see redactSecrets).
const redacted = "<secret>"

// minSecret is the shortest text treated as a secret: shorter ones are
// too common to replace, and no provider issues them.
const minSecret = 4

// minFragment is the shortest part of a secret shown beside a mask that
// gives the whole masked word away.
const minFragment = 4

// secretForms returns every form of secrets a provider may echo whole:
// the secret, its URL and path encodings, its base64 (an Authorization
// header's Basic credentials), and for a key:secret pair (WooCommerce's
// consumer key and secret) each part.
func secretForms(secrets []string) []string {
	var parts []string
	for _, tok := range secrets {
		parts = append(parts, tok)
		// key:secret pairs only; a JSON key file also has colons.
		if strings.Count(tok, ":") == 1 && !strings.ContainsAny(tok, "{}\" \n") {
			parts = append(parts, strings.Split(tok, ":")...)
		}
	}
	var out []string
	for _, sec := range parts {
		if len(sec) < minSecret {
			continue
		}
		out = append(out, sec, url.QueryEscape(sec), url.PathEscape(sec),
			base64.StdEncoding.EncodeToString([]byte(sec)),
			base64.RawStdEncoding.EncodeToString([]byte(sec)),
			base64.URLEncoding.EncodeToString([]byte(sec)),
			base64.RawURLEncoding.EncodeToString([]byte(sec)))
	}
	// Longest first, so a form inside another is not replaced first and
	// leaves the rest of the longer one behind.
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return out
}

// redactSecrets removes secrets from s: every whole form (secretForms),
// then every masked word that shows a secret's start or end beside its
// mask.
func redactSecrets(s string, secrets []string) string {
	if len(secrets) == 0 || s == "" {
		return s
	}
	forms := secretForms(secrets)
	if len(forms) == 0 {
		return s
	}
	for _, f := range forms {
		s = strings.ReplaceAll(s, f, redacted)
	}
	return redactMasked(s, forms)
}

// isMask reports whether r is a character providers mask secrets with.
func isMask(r rune) bool {
	switch r {
	case '*', '•', '●', '∗', '·', '…', 'x', 'X', '#':
		return true
	}
	return false
}

// isWordRune reports whether r can be part of a key as providers print
// it: letters, digits, and the punctuation keys and masks are made of.
func isWordRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case strings.ContainsRune("_-+/=.%~:", r):
		return true
	}
	return isMask(r)
}

// redactMasked replaces each word of s that holds a mask (three or more
// mask characters in a row; four for the letters x and X and the dot, which
// are common in text; one ellipsis) and shows, next to the mask, 4 or more characters
// that start or end one of the secrets' forms.
func redactMasked(s string, forms []string) string {
	var b strings.Builder
	rest := s
	for rest != "" {
		// The next word.
		i := strings.IndexFunc(rest, isWordRune)
		if i < 0 {
			b.WriteString(rest)
			break
		}
		b.WriteString(rest[:i])
		rest = rest[i:]
		j := strings.IndexFunc(rest, func(r rune) bool { return !isWordRune(r) })
		if j < 0 {
			j = len(rest)
		}
		word := rest[:j]
		rest = rest[j:]
		// A sentence's full stop or comma after a word is not part of
		// it; a run of dots may be a mask.
		if k := len(word) - 1; k > 0 && strings.IndexByte(".,:;", word[k]) >= 0 && word[k-1] != word[k] {
			word, rest = word[:k], word[k:]+rest
		}
		if maskedSecret(word, forms) {
			b.WriteString(redacted)
		} else {
			b.WriteString(word)
		}
	}
	return b.String()
}

// maskedSecret reports whether word shows part of a secret beside a mask.
func maskedSecret(word string, forms []string) bool {
	for start := 0; start < len(word); {
		r, size := utf8.DecodeRuneInString(word[start:])
		if !isMask(r) {
			start += size
			continue
		}
		// The run of this mask character.
		end := start
		n := 0
		for end < len(word) {
			q, qs := utf8.DecodeRuneInString(word[end:])
			if q != r {
				break
			}
			end += qs
			n++
		}
		need := 3
		switch r {
		case 'x', 'X', '.':
			need = 4
		case '…':
			need = 1
		}
		if n >= need && fragmentOfSecret(word[:start], strings.TrimLeftFunc(word[end:], isMask), forms) {
			return true
		}
		start = end
	}
	return false
}

// fragmentOfSecret reports whether before, the text before a mask, ends
// with 4 or more characters that start a secret's form, or after, the
// text after it, starts with 4 or more that end one. The word may hold
// more than the key ("key=sk_t****"): any such end or start counts.
func fragmentOfSecret(before, after string, forms []string) bool {
	for _, f := range forms {
		for k := minFragment; k <= len(before) && k < len(f); k++ {
			if strings.HasPrefix(f, before[len(before)-k:]) {
				return true
			}
		}
		for k := minFragment; k <= len(after) && k < len(f); k++ {
			if strings.HasSuffix(f, after[:k]) {
				return true
			}
		}
	}
	return false
}
