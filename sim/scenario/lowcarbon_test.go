package scenario

import (
	"math"
	"strings"
	"testing"
)

func TestCompileLowCarbon(t *testing.T) {
	for _, tc := range []struct {
		name  string
		share float64
		want  string // "" = valid
	}{
		{"none", 0, ""},
		{"cal:carbon.wechat-enrolled", 0.00046, ""},
		{"all", 1, ""},
		{"above one", 1.5, "low_carbon.weixin_enrolled: share 1.5 must be within 0-1"},
		{"negative", -0.1, "low_carbon.weixin_enrolled"},
		{"NaN", math.NaN(), "low_carbon.weixin_enrolled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			s.LowCarbon.WeixinEnrolled = tc.share
			_, err := Compile(s)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one naming %q", err, tc.want)
			}
		})
	}
}
