package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Markdown writes the report for a chat post: a short table per section,
// creators ranked by cost per redemption, times in loc. Tables are padded
// so that they also read where the chat shows Markdown as plain text.
func (r *Report) Markdown(loc *time.Location) string {
	var b strings.Builder
	tf := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04 MST") }
	prev := r.Previous != nil

	fmt.Fprintf(&b, "## Checkpoint read: %s\n\n", r.Campaign)
	fmt.Fprintf(&b, "Window: %s to %s (%s), %s; job %s.\n", tf(r.Window.Start), tf(r.Window.End),
		model.Duration(r.Window.duration()), r.sinceText(tf), r.Job)
	if prev {
		fmt.Fprintf(&b, "Previous read: %s to %s (%s).\n", tf(r.Previous.Start), tf(r.Previous.End), model.Duration(r.Previous.duration()))
	} else {
		fmt.Fprintf(&b, "Previous read: none, no checkpoint in the %s before this window's start.\n", lookbackText)
	}
	fmt.Fprintf(&b, "Still settling: figures since %s may change; platform insights and web analytics revise them for up to two days.\n",
		tf(r.Settling.From))

	// Cost per action.
	b.WriteString("\n### Cost per action (lifetime, ranked by cost per redemption)\n\n")
	head := []string{"rank", "creator", "fee", "per click", "per redemption", "return on spend", "budget spent"}
	if prev {
		head = append(head, "rank vs previous read")
	}
	t := table{head: head}
	currencies := map[string]bool{}
	for _, c := range r.Creators {
		if c.Cost == nil {
			row := []string{"-", c.Creator, "no fee", "-", "-", "-", "-"}
			if prev {
				row = append(row, "-")
			}
			t.rows = append(t.rows, row)
			continue
		}
		k := c.Cost
		currencies[k.Currency] = true
		money := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return formatMoney(*v, k.Currency)
		}
		row := []string{intOr(k.Rank), c.Creator, formatMoney(k.Fee, k.Currency), money(k.CostPerClick), money(k.CostPerRedemption),
			ratioOr(k.ReturnOnSpend), percentOr(k.BudgetSpent)}
		if prev {
			row = append(row, rankMove(k.Rank, k.PreviousRank))
		}
		t.rows = append(t.rows, row)
	}
	t.write(&b)
	b.WriteString("\nCosts divide the fee owed so far by lifetime totals; return on spend is the net revenue in the fee's currency over the fee.")
	if len(currencies) > 1 {
		b.WriteString(" Ranks are within each currency: amounts in different currencies are never compared.")
	}
	b.WriteString("\n")

	// Action and attention.
	vs := ""
	if prev {
		vs = " (change of pace vs previous read)"
	}
	fmt.Fprintf(&b, "\n### Action in the window%s\n\n", vs)
	t = table{head: []string{"creator", "link clicks", "code redemptions", "net revenue", "referral visitors"}}
	for _, c := range r.Creators {
		t.rows = append(t.rows, []string{c.Creator,
			c.figure(func(f *Figures) *float64 { return f.LinkClicks }, func(ch *Change) *float64 { return ch.LinkClicks }),
			c.figure(func(f *Figures) *float64 { return f.CodeRedemptions }, func(ch *Change) *float64 { return ch.CodeRedemptions }),
			c.revenue(),
			c.figure(func(f *Figures) *float64 { return f.ReferralVisitors }, func(ch *Change) *float64 { return ch.ReferralVisitors }),
		})
	}
	t.write(&b)
	fmt.Fprintf(&b, "\n### Attention in the window%s\n\n", vs)
	t = table{head: []string{"creator", "views", "saves+shares", "followers"}}
	for _, c := range r.Creators {
		t.rows = append(t.rows, []string{c.Creator,
			c.figure(func(f *Figures) *float64 { return f.Views }, func(ch *Change) *float64 { return ch.Views }),
			c.figure(func(f *Figures) *float64 { return f.SavesShares }, func(ch *Change) *float64 { return ch.SavesShares }),
			c.figure(func(f *Figures) *float64 { return f.Followers }, func(ch *Change) *float64 { return ch.Followers }),
		})
	}
	t.write(&b)
	if prev {
		b.WriteString("\nChanges compare the pace per hour with the previous read's, so windows of different lengths compare; new: nothing to compare with in the previous read.\n")
	}

	// Tracking links.
	b.WriteString("\n### Broken tracking links\n\n")
	if len(r.BrokenLinks) == 0 {
		b.WriteString("No tracking link was found broken in the window.\n")
	} else {
		t = table{head: []string{"creator", "link", "broken minutes"}}
		for _, l := range r.BrokenLinks {
			t.rows = append(t.rows, []string{l.Creator, l.Provider + " " + l.Link, formatCount(l.Minutes)})
		}
		t.write(&b)
		b.WriteString("\nMinutes at which the link probe's last verdict was down (influencer_link_up 0), counted at 1-minute steps.\n")
	}

	// Authenticity flags.
	b.WriteString("\n### Authenticity flags\n\n")
	head = []string{"creator", "fired in the window"}
	if prev {
		head = append(head, "fired in the previous read")
	}
	t = table{head: head}
	for _, c := range r.Creators {
		var before []string
		if c.Previous != nil {
			before = c.Previous.Flags
		}
		if len(c.Window.Flags) == 0 && len(before) == 0 {
			continue
		}
		row := []string{c.Creator, listOr(c.Window.Flags)}
		if prev {
			row = append(row, listOr(before))
		}
		t.rows = append(t.rows, row)
	}
	if len(t.rows) == 0 {
		b.WriteString("No authenticity alert fired in the window")
		if prev {
			b.WriteString(" or the previous read")
		}
		b.WriteString(".\n")
	} else {
		t.write(&b)
		b.WriteString("\nAlerts that fired at any time in the window, from Prometheus' ALERTS series; each has a section in the runbooks.\n")
	}

	// Early curve.
	b.WriteString("\n### Early curve: saves+shares at each age since publishing\n\n")
	if len(r.EarlyCurve.Posts) == 0 {
		b.WriteString("No post has a recorded age yet.\n")
		return b.String()
	}
	var qs []string
	for _, a := range r.EarlyCurve.Ages {
		qs = append(qs, fmt.Sprintf("%s %s / %s / %s (%d posts)", a.Age, formatCount(a.P25), formatCount(a.P50), formatCount(a.P75), a.Posts))
	}
	fmt.Fprintf(&b, "Campaign p25 / p50 / p75: %s.\n\n", strings.Join(qs, "; "))
	head = []string{"post", "creator"}
	for _, a := range r.EarlyCurve.Ages {
		head = append(head, a.Age)
	}
	t = table{head: head}
	for _, p := range r.EarlyCurve.Posts {
		row := []string{p.Provider + " " + p.Post, p.Creator}
		for _, a := range r.EarlyCurve.Ages {
			cell := "-"
			for _, v := range p.AtAge {
				if v.Age == a.Age {
					cell = fmt.Sprintf("%s (%s)", formatCount(v.SavesShares), standingText[v.Standing])
				}
			}
			row = append(row, cell)
		}
		t.rows = append(t.rows, row)
	}
	t.write(&b)
	return b.String()
}

var standingText = map[string]string{
	BelowP25:   "below p25",
	P25toP50:   "p25-p50",
	P50toP75:   "p50-p75",
	P75OrAbove: "p75+",
}

func (r *Report) sinceText(tf func(time.Time) string) string {
	switch {
	case r.Since == "last-checkpoint":
		return "since the last checkpoint"
	case strings.Contains(r.Since, "T"):
		return "since " + tf(r.Window.Start)
	}
	return "the last " + r.Since
}

// figure writes a window figure and, with a previous read, its change.
func (c Creator) figure(field func(*Figures) *float64, ratio func(*Change) *float64) string {
	now := field(&c.Window)
	if now == nil {
		return "-"
	}
	s := formatCount(*now)
	if c.Change != nil {
		s += " (" + changeText(*now, field(c.Previous), ratio(c.Change)) + ")"
	}
	return s
}

func (c Creator) revenue() string {
	if len(c.Window.NetRevenue) == 0 {
		return "-"
	}
	var parts []string
	for i, m := range c.Window.NetRevenue {
		s := formatMoney(m.Amount, m.Currency)
		if c.Change != nil {
			s += " (" + changeText(m.Amount, moneyIn(c.Previous.NetRevenue, m.Currency), c.Change.NetRevenue[i].Ratio) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// changeText writes a change of pace: "+12%", "-5%", "0%"; "new" where the
// previous read had nothing to compare with.
func changeText(now float64, before, ratio *float64) string {
	switch {
	case ratio != nil:
		if p := math.Round(*ratio * 100); p != 0 {
			return fmt.Sprintf("%+.0f%%", p)
		}
		return "0%"
	case before == nil || (*before == 0 && now != 0):
		return "new"
	}
	return "0%"
}

func rankMove(now, before *int) string {
	switch {
	case now == nil:
		return "-"
	case before == nil:
		return "new"
	case *now < *before:
		return fmt.Sprintf("up %d", *before-*now)
	case *now > *before:
		return fmt.Sprintf("down %d", *now-*before)
	}
	return "same"
}

// formatCount writes counts as integers and anything else with two
// decimals at most.
func formatCount(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func formatMoney(v float64, currency string) string {
	return strconv.FormatFloat(v, 'f', 2, 64) + " " + currency
}

func intOr(v *int) string {
	if v == nil {
		return "-"
	}
	return strconv.Itoa(*v)
}

func ratioOr(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 2, 64)
}

func percentOr(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v*100, 'f', 0, 64) + "%"
}

func listOr(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ", ")
}

// table is a Markdown table with padded columns.
type table struct {
	head []string
	rows [][]string
}

func (t table) write(b *strings.Builder) {
	width := make([]int, len(t.head))
	all := append([][]string{t.head}, t.rows...)
	for _, row := range all {
		for i, cell := range row {
			width[i] = max(width[i], len([]rune(escapeCell(cell))), 3)
		}
	}
	line := func(row []string) {
		b.WriteString("|")
		for i, cell := range row {
			cell = escapeCell(cell)
			b.WriteString(" " + cell + strings.Repeat(" ", width[i]-len([]rune(cell))) + " |")
		}
		b.WriteString("\n")
	}
	line(t.head)
	sep := make([]string, len(t.head))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, row := range slices.Clip(t.rows) {
		line(row)
	}
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
