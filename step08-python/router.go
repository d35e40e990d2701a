package main

// router.go: Router, an App that hands each request to the App registered
// for its method and path, in the pattern syntax of Go's net/http.ServeMux:
//
//	router.Route("GET /hello/{name}", Handler(hello))
//	router.Route("POST /echo", Handler(echo))
//	router.Route("/any-method", app)
//	router.Mount("/environ", otherApp)
//
// The rules, all in App below:
//
//   - A pattern is an optional method, one space, and a path. A path segment
//     is literal text or a wildcard {name}, which matches one whole,
//     non-empty segment; Req.Param(name) gives what it matched.
//   - The path matched is PATH_INFO, the part of the path below this app's
//     mount point (SCRIPT_NAME), percent-decoded; an empty one is "/".
//   - A literal segment beats a wildcard, left to right: /hello/world wins
//     over /hello/{name}. A pattern with a method beats one without. Among
//     equals, the first added wins.
//   - A GET route answers HEAD too (the server sends no body), by the same
//     rules: the most specific path first, and a GET route before a
//     method-less one; a HEAD route for the same path comes before both.
//   - Path known, method not: 405, with Allow listing the methods there are.
//   - Trailing slash: /hello and /hello/ are different paths. When only the
//     other one has a route, the answer is 308 Permanent Redirect to it (308
//     keeps the method and the body, unlike 301).
//   - Nothing matches: 404.
//   - OPTIONS * asks about the server, not a path: 200, with Allow naming
//     every method the routes have, and no content.
//   - A mount owns every path under its prefix, and comes before the routes.

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"
)

// Router is an App made of other Apps. Add routes before serving: the
// routes are read by every request at once and must not change meanwhile.
type Router struct {
	routes []route
	mounts []mount
}

type route struct {
	method   string   // "GET", or "" for any method
	segments []string // the path split at each "/": "/hello/{name}" is {"hello", "{name}"}, "/" is {""}
	names    []string // the wildcards' names, in order
	app      App
}

type mount struct {
	prefix string // "/environ": no trailing slash
	app    App
}

// NewRouter returns a router with no routes: every path is a 404.
func NewRouter() *Router { return &Router{} }

// Route makes app answer requests that match pattern. A malformed pattern,
// or one added twice, panics: that is a bug in the program, not in a request.
func (rt *Router) Route(pattern string, app App) {
	method, path, hasMethod := strings.Cut(pattern, " ")
	if !hasMethod {
		method, path = "", pattern
	}
	if hasMethod && !isToken(method) || !strings.HasPrefix(path, "/") {
		panic(fmt.Sprintf("Route(%q): a pattern is [METHOD ]/path", pattern))
	}
	r := route{method: method, segments: strings.Split(path[1:], "/"), app: app}
	for _, seg := range r.segments {
		if !strings.ContainsAny(seg, "{}") {
			continue
		}
		name, ok := wildcardName(seg)
		if !ok || slices.Contains(r.names, name) {
			panic(fmt.Sprintf("Route(%q): %q must be a whole segment {name}, each name once", pattern, seg))
		}
		r.names = append(r.names, name)
	}
	for _, other := range rt.routes {
		if other.method == r.method && slices.Equal(kinds(other.segments), kinds(r.segments)) &&
			other.sameLiterals(r) {
			panic(fmt.Sprintf("Route(%q): this method and path already have a route", pattern))
		}
	}
	rt.routes = append(rt.routes, r)
	slices.SortStableFunc(rt.routes, moreSpecificFirst)
}

// Mount makes app answer every path at or below prefix ("/environ"
// answers /environ and /environ/x), with the prefix moved from PATH_INFO
// to the end of SCRIPT_NAME, as PEP 3333 asks of a dispatcher: app then
// sees the paths below its mount point, and builds its URLs from SCRIPT_NAME.
func (rt *Router) Mount(prefix string, app App) {
	if !strings.HasPrefix(prefix, "/") || strings.HasSuffix(prefix, "/") || strings.ContainsAny(prefix, "{}") ||
		strings.ContainsFunc(prefix, func(c rune) bool { return c > 0x7e || c <= ' ' }) {
		panic(fmt.Sprintf("Mount(%q): a prefix is an ASCII path like /api, without a trailing slash", prefix))
	}
	rt.mounts = append(rt.mounts, mount{prefix, app})
}

// App is the router as a WSGI application: Server{App: router.App}.
func (rt *Router) App(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	pathInfo := environ["PATH_INFO"].(string) // Latin-1: a rune per byte
	method := environ["REQUEST_METHOD"].(string)
	if pathInfo == "*" && method == "OPTIONS" {
		return rt.serverOptions(environ, startResponse)
	}
	for _, m := range rt.mounts {
		// The prefix is ASCII, so it reads the same in Latin-1.
		if rest, ok := strings.CutPrefix(pathInfo, m.prefix); ok && (rest == "" || rest[0] == '/') {
			environ["SCRIPT_NAME"] = environ["SCRIPT_NAME"].(string) + m.prefix
			environ["PATH_INFO"] = rest
			return m.app(environ, startResponse)
		}
	}

	path := cmp.Or(wireString(pathInfo), "/") // the bytes the client sent, as the patterns are written

	var allowed []string  // the methods of the routes whose path matches
	var getForHead *route // a HEAD's GET route, unless a HEAD route for the same path follows
	var getValues []string
	for i := range rt.routes {
		r := &rt.routes[i]
		values, ok := r.match(path)
		switch {
		case !ok:
		case getForHead != nil && (r.method == "" || !slices.Equal(kinds(r.segments), kinds(getForHead.segments))):
			// The routes are in order: this one and all that follow have
			// a less specific path, or no method, and the GET route wins.
			return getForHead.serve(getValues, environ, startResponse)
		case r.method == method || r.method == "":
			return r.serve(values, environ, startResponse)
		case r.method == "GET" && method == "HEAD":
			getForHead, getValues = r, values
		default:
			allowed = append(allowed, r.method)
		}
	}
	if getForHead != nil {
		return getForHead.serve(getValues, environ, startResponse)
	}

	fullPath := wireString(environ["SCRIPT_NAME"].(string)) + path
	if len(allowed) > 0 {
		allow := allowList(allowed)
		return ErrorPage(405, method+" is not allowed at "+fullPath+"; try "+allow+".").
			WithHeader("Allow", allow)(environ, startResponse)
	}
	if other, ok := otherSlash(path); ok && rt.hasPath(other) {
		location := pathURL(other)
		if query := environ["QUERY_STRING"].(string); query != "" {
			location += "?" + query // the query is ASCII: the parser refused anything else
		}
		return Redirect(308, location)(environ, startResponse)
	}
	return ErrorPage(404, "Nothing is at "+fullPath+".")(environ, startResponse)
}

// serverOptions answers OPTIONS * (asterisk-form), which asks about the
// server as a whole, not a resource (RFC 9110 §9.3.7): 200, no content,
// and Allow naming every method a route has. A method-less route or a
// mount takes any method; Allow lists what the routes name.
func (rt *Router) serverOptions(environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	var methods []string
	for _, r := range rt.routes {
		if r.method != "" {
			methods = append(methods, r.method)
		}
	}
	// RFC 9110 §9.3.7: with no content, Content-Length must say 0.
	startResponse("200 OK", []Header{{"Allow", allowList(methods)}, {"Content-Length", "0"}}, nil)
	return func(func([]byte) bool) {}
}

// allowList is the value of an Allow header for methods: sorted, each
// once, and HEAD wherever GET is, since a GET route answers HEAD too.
func allowList(methods []string) string {
	if slices.Contains(methods, "GET") {
		methods = append(methods, "HEAD")
	}
	slices.Sort(methods)
	return strings.Join(slices.Compact(methods), ", ")
}

// serve runs the route's app with the wildcards' values in the environ.
func (r *route) serve(values []string, environ Environ, startResponse StartResponse) iter.Seq[[]byte] {
	if len(r.names) > 0 {
		named := make(map[string]string, len(r.names))
		for i, name := range r.names {
			named[name] = values[i]
		}
		environ["wsgiorg.routing_args"] = RoutingArgs{Named: named}
	}
	return r.app(environ, startResponse)
}

// match reports whether path has the route's segments, and returns what
// the wildcards matched, in order. It allocates only for wildcards.
func (r *route) match(path string) (values []string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return nil, false
	}
	for i, seg := range r.segments {
		part, after, more := strings.Cut(rest, "/")
		if last := i == len(r.segments)-1; more == last {
			return nil, false // the path has more segments, or fewer
		}
		if _, isWildcard := wildcardName(seg); isWildcard {
			if part == "" {
				return nil, false
			}
			values = append(values, part)
		} else if part != seg {
			return nil, false
		}
		rest = after
	}
	return values, true
}

// hasPath reports whether any route, of any method, matches path.
func (rt *Router) hasPath(path string) bool {
	return slices.ContainsFunc(rt.routes, func(r route) bool {
		_, ok := r.match(path)
		return ok
	})
}

// otherSlash is path with its trailing slash removed, or added. "/" has no
// other form, and neither has a path that would become "//host": as a
// Location, that is a link to another site (an "open redirect").
func otherSlash(path string) (string, bool) {
	other := path + "/"
	if trimmed, ok := strings.CutSuffix(path, "/"); ok {
		other = trimmed
	}
	return other, other != "" && !strings.HasPrefix(other, "//")
}

// wildcardName is "name" for the segment "{name}".
func wildcardName(seg string) (string, bool) {
	name, ok := strings.CutPrefix(seg, "{")
	name, ok2 := strings.CutSuffix(name, "}")
	return name, ok && ok2 && name != "" && !strings.ContainsAny(name, "{}") && !strings.HasSuffix(name, "...")
}

// kinds is the shape of a path: 0 for a literal segment, 1 for a wildcard.
func kinds(segments []string) []int {
	out := make([]int, len(segments))
	for i, seg := range segments {
		if _, ok := wildcardName(seg); ok {
			out[i] = 1
		}
	}
	return out
}

// sameLiterals reports whether two routes of the same shape have the same
// literal segments, so that they match exactly the same paths.
func (r route) sameLiterals(other route) bool {
	for i, seg := range r.segments {
		if _, ok := wildcardName(seg); !ok && seg != other.segments[i] {
			return false
		}
	}
	return true
}

// moreSpecificFirst orders routes for App's first-match loop: literal
// before wildcard, segment by segment; then a method before none.
func moreSpecificFirst(a, b route) int {
	if c := slices.Compare(kinds(a.segments), kinds(b.segments)); c != 0 {
		return c
	}
	return cmp.Compare(boolInt(a.method == ""), boolInt(b.method == ""))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
