package examples

// Tokens are dummy values for every token_env the examples name, in the
// form each provider's check expects: what tests that check the examples
// set in the environment.
var Tokens = map[string]string{
	"BITLY_TOKEN":       "example-bitly-token",
	"DUB_TOKEN":         "dub_example",
	"SHOPIFY_TOKEN":     "shpat_example",
	"WOOCOMMERCE_TOKEN": "ck_example:cs_example",
	"STRIPE_TOKEN":      "rk_live_example",
	"INSTAGRAM_TOKEN":   "example-instagram-token",
	"TIKTOK_TOKEN_NOA":  "act.example-noa",
	"TIKTOK_TOKEN_LEO":  "act.example-leo",
	"YOUTUBE_API_KEY":   "example-youtube-key",
	"PLAUSIBLE_TOKEN":   "example-plausible-key",
}
