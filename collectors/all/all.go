// Package all registers every collector: importing it for its side effects
// is the one place a new provider is wired in, for the exporter and for
// anything else that checks a configuration as the exporter does.
package all

import (
	_ "github.com/influencer-exporter/influencer_exporter/collectors/bitly"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/dub"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/ga4"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/instagram"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/jsonapi"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/linkprobe"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/plausible"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/rebrandly"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/shopify"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/shortio"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/stripe"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/tiktok"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/woocommerce"
	_ "github.com/influencer-exporter/influencer_exporter/collectors/youtube"
)
