package shopify

// SetSearchDepth sets how far into one search the orders listing goes,
// for a test, and returns what puts it back.
func SetSearchDepth(n int) func() {
	old := searchDepth
	searchDepth = n
	return func() { searchDepth = old }
}
