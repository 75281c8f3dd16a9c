package exporter

import (
	"context"
	"fmt"
)

// ListingPlan says where a listing read by ListUntilFound starts and how
// far it may go.
type ListingPlan struct {
	// Resume is the cursor where a listing cut short by the end of an
	// earlier refresh stopped ("" for the first page). A pass started
	// there goes to the end of the listing, then round once from the
	// first page, so that a listing longer than a refresh's time still
	// reaches every object.
	Resume string
	// MaxPages is the number of calls the pass may make, failed ones
	// included. Callers set it to the number of objects to find: the
	// objects not found then cost a lookup each, so a listing far longer
	// than the configured objects costs at most twice the calls of
	// looking them up one by one.
	MaxPages int
}

// ListingResult says how far a pass of ListUntilFound went.
type ListingResult struct {
	// Pages is the number of pages the provider answered, Calls the
	// number of calls made, failed ones included.
	Pages, Calls int
	// Cut is true when the refresh ran out of time: Resume is then the
	// cursor the next pass starts at, "" otherwise.
	Cut    bool
	Resume string
	// Complete is true when the pass read the listing to its end, having
	// covered it from the first page: an object it did not find is not
	// in the listing.
	Complete bool
}

// ListUntilFound reads a cursor-paged provider listing to find configured
// objects, where the listing's pages are cheaper than a lookup per object.
// fetch returns the page at cursor ("" for the first) and the cursor of
// the next page ("" after the last); take is handed each page and returns
// true once it wants nothing more. The pass stops when take is done, the
// listing ends, plan.MaxPages calls were made, or ctx is done.
//
// A call that fails after a pass started at plan.Resume starts the pass
// again from the first page: the saved cursor may have expired. Out of
// time, the pass returns what it read with Cut set and no error. Any other
// failure is returned as it came, for the caller to name the listing; a
// listing refused (Refused: 403, 404, 501) is the caller's cue to look the
// objects up one by one. A next cursor equal to the one just read is
// ErrBadResponse: the listing would never end.
func ListUntilFound[T any](ctx context.Context, plan ListingPlan, fetch func(ctx context.Context, cursor string) (items []T, next string, err error), take func(page []T) (done bool)) (ListingResult, error) {
	var (
		res     ListingResult
		cursor  = plan.Resume
		wrapped = cursor == "" // the pass started at the first page
	)
	for res.Calls < plan.MaxPages {
		if OutOfTime(ctx) {
			res.Cut = true
			break
		}
		items, next, err := fetch(ctx, cursor)
		res.Calls++
		switch {
		case err != nil && OutOfTime(ctx):
			res.Cut = true
		case err != nil && !wrapped:
			wrapped, cursor = true, ""
			continue
		case err != nil:
			return res, err
		}
		if res.Cut {
			break
		}
		res.Pages++
		if take(items) {
			break
		}
		if next == "" || len(items) == 0 {
			if wrapped {
				res.Complete = true
				break
			}
			// Started part way: go round from the first page.
			wrapped, cursor = true, ""
			continue
		}
		if next == cursor {
			return res, fmt.Errorf("%w: pagination does not advance", ErrBadResponse)
		}
		cursor = next
	}
	if res.Cut {
		res.Resume = cursor
	}
	return res, nil
}
