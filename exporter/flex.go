package exporter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Tolerant numbers for provider metadata. Some providers (or their
// proxies, or a version of their API) send a number as a JSON string
// ("12" for 12) in fields their docs call numbers: an id, a query cost, a
// quota. FlexInt and FlexFloat accept either form, so such a field does
// not fail the whole response; anything else (a word, an object, a
// fraction for FlexInt) is still an error, which the caller reports for
// the one object it concerns. JSON null and "" leave the value unchanged.

// FlexInt is an integer sent as a JSON number or a numeric string.
type FlexInt int64

// FlexFloat is a number sent as a JSON number or a numeric string.
type FlexFloat float64

// UnmarshalJSON accepts 12, 12.0, "12" and " 12 "; null and "" leave the
// value unchanged.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	s, ok, err := flexText(b)
	if err != nil || !ok {
		return err
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = FlexInt(n)
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v != math.Trunc(v) || math.Abs(v) > 1<<62 {
		return fmt.Errorf("exporter: not an integer: %s", b)
	}
	*f = FlexInt(v)
	return nil
}

// UnmarshalJSON accepts 1.5 and "1.5"; null and "" leave the value
// unchanged.
func (f *FlexFloat) UnmarshalJSON(b []byte) error {
	s, ok, err := flexText(b)
	if err != nil || !ok {
		return err
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("exporter: not a number: %s", b)
	}
	*f = FlexFloat(v)
	return nil
}

// flexText returns the number's text, false for null or "".
func flexText(b []byte) (string, bool, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return "", false, nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", false, err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return "", false, nil
		}
		return s, true, nil
	}
	if b[0] == '-' || (b[0] >= '0' && b[0] <= '9') {
		return string(b), true, nil
	}
	return "", false, fmt.Errorf("exporter: not a number: %s", b)
}
