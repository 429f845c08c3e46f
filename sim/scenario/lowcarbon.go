package scenario

// LowCarbon is WeChat Pay's low-carbon programme (the three-week Q&A
// challenge of 15 Jun 2022, cal:carbon.wechat-challenge-2022), as far as
// its sources give figures: how many WeChat users took part. They give no
// green-energy points or other credit for taking part and no change in
// how participants pay, so the programme adds no points and changes no
// payment; a run counts the enrolled holders (summary.json low_carbon).
type LowCarbon struct {
	// WeixinEnrolled is the share of mainland Weixin wallet holders
	// enrolled: cal:carbon.wechat-enrolled, about 600k of WeChat's 1.3bn
	// users.
	WeixinEnrolled float64 `mapstructure:"weixin_enrolled" json:"weixin_enrolled,omitempty"`
}

// Enabled reports whether the scenario models the programme.
func (l *LowCarbon) Enabled() bool { return l.WeixinEnrolled > 0 }

func (l *LowCarbon) check(bad func(string, string, ...any)) {
	if !(l.WeixinEnrolled >= 0 && l.WeixinEnrolled <= 1) {
		bad("low_carbon.weixin_enrolled", "share %v must be within 0-1", l.WeixinEnrolled)
	}
}
