package web

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/ltipub/ltipub/internal/i18n"
	"github.com/ltipub/ltipub/internal/jobs"
)

// Paged lists. Every list that grows with the number of people reads one page from the store (?page=, 1 first,
// and ?size=, 50 by default and 200 at most) in a stable order, and shows it with the pager partial
// (templates/layout/pager.html): "Showing 51–100 of 5,000 enrolments" and Previous / Next links that keep every
// filter of the query string.

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// pageSizes are the sizes the lists' "Per page" menus offer.
var pageSizes = []int{25, 50, 100, 200}

// pageReq is the page a request asks for.
type pageReq struct {
	Page int // 1 first
	Size int
}

// Offset is how many rows come before the page.
func (p pageReq) Offset() int { return (p.Page - 1) * p.Size }

// readPage reads ?page= and ?size=. A value that is not a number is refused with a page that says so; a size out
// of bounds is brought within them (a link shortened by hand still shows something sensible).
func readPage(q url.Values) (pageReq, error) {
	p := pageReq{Page: 1, Size: defaultPageSize}
	if v := strings.TrimSpace(q.Get("page")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, badFilter("page", v, "a page number: 1, 2, 3…")
		}
		p.Page = n
	}
	if v := strings.TrimSpace(q.Get("size")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return p, badFilter("size", v, "a number of rows per page, at most "+strconv.Itoa(maxPageSize))
		}
		p.Size = min(n, maxPageSize)
	}
	// A page so far out that its offset would overflow is simply past the end.
	p.Page = min(p.Page, 1<<30/p.Size)
	return p, nil
}

// badFilter is the answer to a list's query parameter that makes no sense: which one, what it held, what it takes.
// In another language than English, want is said with filterWants' words when it is one of them (else as given).
func badFilter(name, value, want string) *Problem {
	return &Problem{Status: 400, Code: "bad_filter", Title: "That filter was not understood",
		Cause: "The " + name + " filter " + strconv.Quote(value) + " is not " + want + ".",
		Fix:   "Choose the filter again from the form on the list's page, or remove " + name + "= from the address.",
		Localize: func(tr *i18n.Printer) (string, string, string) {
			if k, ok := filterWants[want]; ok {
				want = tr.T(k, "Max", maxPageSize)
			}
			return tr.T("layout.filter.title"), tr.T("layout.filter.cause", "Name", name, "Value", strconv.Quote(value), "Want", want),
				tr.T("layout.filter.fix", "Name", name)
		}}
}

// filterWants are the catalog's words for what a filter takes, by badFilter's English want.
var filterWants = map[string]string{
	"a page number: 1, 2, 3…":                                         "layout.filter.want.page",
	"a number of rows per page, at most " + strconv.Itoa(maxPageSize): "layout.filter.want.size",
	"a registration: choose one from the list":                        "ops.filter.want.registration",
	"accepted or refused":                                             "ops.filter.want.outcome",
	"a date and time like 2026-03-01T17:00 (UTC)":                     "ops.filter.want.time",
	"grades or members":                                               "ops.filter.want.kind",
	"periodic, manual, change or startup":                             "ops.filter.want.cause",
	"one of " + strings.Join(jobs.Statuses, ", "):                     "ops.filter.want.status",
}

// pager is what the pager partial shows for one page of a list. Its own words ("Showing 1–50 of 5,000 …",
// "Page 2 of 9", Previous / Next) are in the page's language: render gives the pagers of a page's fields the
// page's printer (givePagerPrinter), so a handler only names the rows, in the person's language:
//
//	Pager: newPager(path, q, req, total, len(rows), s.t(r, "ops.pager.launches"), filtered)
type pager struct {
	// Noun names the rows in the plural, in the page's language ("enrolments", "matriculaciones"): the count line
	// and the links' accessible names use it ("No enrolments yet.", "Aún no hay matriculaciones."), so a plural
	// noun without an article is what reads well in every sentence.
	Noun              string
	From, To, Total   int
	Page, Pages, Size int
	Sizes             []int
	// First, Prev, Next and Last are links to those pages with the same filters ("" where there is none).
	First, Prev, Next, Last string
	// Filtered is set when a filter is in use: an empty list then says that nothing matches, with Clear.
	Filtered bool
	Clear    string

	tr *i18n.Printer // the page's language (nil: English, as the pager's words were written)
}

// newPager makes the pager of a page that shows shown rows out of total, at path with the query q.
func newPager(path string, q url.Values, req pageReq, total, shown int, noun string, filtered bool) pager {
	p := pager{Noun: noun, Total: total, Page: req.Page, Size: req.Size, Sizes: pageSizes, Filtered: filtered,
		Pages: max((total+req.Size-1)/req.Size, 1), Clear: path}
	if shown > 0 {
		p.From = req.Offset() + 1
		p.To = req.Offset() + shown
	}
	link := func(page int) string {
		v := url.Values{}
		for k, vals := range q {
			if k == "page" {
				continue
			}
			for _, x := range vals {
				if x != "" {
					v.Add(k, x)
				}
			}
		}
		if v.Get("size") == strconv.Itoa(defaultPageSize) {
			v.Del("size")
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return path
		}
		return path + "?" + v.Encode()
	}
	if req.Page > 1 {
		p.First = link(1)
		p.Prev = link(min(req.Page-1, p.Pages))
	}
	if req.Page < p.Pages {
		p.Next = link(req.Page + 1)
		p.Last = link(p.Pages)
	}
	return p
}

// PastEnd reports a page number beyond the last page of a list that has rows.
func (p pager) PastEnd() bool { return p.Total > 0 && p.From == 0 }

// Count prints a number with thousands separators, the language's way: 5,000 (5000, 12.345 in Spanish).
func (p pager) Count(n int) string {
	if p.tr != nil && p.tr.Tag() != i18n.Source {
		return p.tr.N(n)
	}
	return thousands(n)
}

// T is one of the pager's words in the page's language (layout.pager.*).
func (p pager) T(id string, args ...any) string {
	if p.tr == nil {
		return id
	}
	return p.tr.T(id, args...)
}

var pagerType = reflect.TypeFor[pager]()

// givePagerPrinter hands tr to every pager field of a page's data (Pager, or a second list's SubPager), so that
// every paged list speaks the page's language without its handler passing the printer along.
func givePagerPrinter(data any, tr *i18n.Printer) {
	v := reflect.ValueOf(data)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	e := v.Elem()
	for i := range e.NumField() {
		if f := e.Field(i); f.Type() == pagerType && f.CanAddr() && e.Type().Field(i).IsExported() {
			f.Addr().Interface().(*pager).tr = tr
		}
	}
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// listQuery keeps of a list's query string (a form's back field) only the list's own parameters, re-encoded, so
// that nothing else comes through them.
func listQuery(raw string, keys ...string) url.Values {
	keep := url.Values{}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return keep
	}
	for _, k := range keys {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			keep.Set(k, v)
		}
	}
	return keep
}

// listBack is the list at path to return to after a form: with the filters and page its back field carried.
func listBack(path, back string, keys ...string) string {
	if keep := listQuery(back, keys...); len(keep) > 0 {
		return path + "?" + keep.Encode()
	}
	return path
}
