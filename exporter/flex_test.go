package exporter

import (
	"encoding/json"
	"testing"
)

func TestFlexInt(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    FlexInt
		wantErr bool
	}{
		{`12`, 12, false},
		{`"12"`, 12, false},
		{`" 12 "`, 12, false},
		{`-3`, -3, false},
		{`"-3"`, -3, false},
		{`12.0`, 12, false},
		{`"1e3"`, 1000, false},
		{`9007199254740993`, 9007199254740993, false},
		{`"9007199254740993"`, 9007199254740993, false},
		{`null`, 7, false},
		{`""`, 7, false},
		{`1.5`, 0, true},
		{`"abc"`, 0, true},
		{`true`, 0, true},
		{`{}`, 0, true},
		{`[1]`, 0, true},
		{`"NaN"`, 0, true},
	} {
		var v struct{ N FlexInt }
		v.N = 7
		err := json.Unmarshal([]byte(`{"N":`+tc.in+`}`), &v)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: got %d, want an error", tc.in, v.N)
			}
			continue
		}
		if err != nil || v.N != tc.want {
			t.Errorf("%s: got %d, %v; want %d", tc.in, v.N, err, tc.want)
		}
	}
}

func TestFlexFloat(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    FlexFloat
		wantErr bool
	}{
		{`1.5`, 1.5, false},
		{`"1.5"`, 1.5, false},
		{`"  2 "`, 2, false},
		{`-0.25`, -0.25, false},
		{`"1e2"`, 100, false},
		{`null`, 7, false},
		{`""`, 7, false},
		{`"x1"`, 0, true},
		{`"Inf"`, 0, true},
		{`false`, 0, true},
		{`{"a":1}`, 0, true},
	} {
		var v struct{ F FlexFloat }
		v.F = 7
		err := json.Unmarshal([]byte(`{"F":`+tc.in+`}`), &v)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: got %v, want an error", tc.in, v.F)
			}
			continue
		}
		if err != nil || v.F != tc.want {
			t.Errorf("%s: got %v, %v; want %v", tc.in, v.F, err, tc.want)
		}
	}
}
