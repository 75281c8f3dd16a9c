package browser

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Node is an element of a DOM that DumpDOM returned, for tests to assert
// on a page's structure: which section holds what, and in which order.
type Node struct {
	Tag   string
	Attrs map[string]string
	// Pos is the element's place in document order, from 0 for the
	// first element.
	Pos      int
	Children []*Node
	// content holds the element's text and its children, in order: a
	// string for text, a *Node for an element.
	content []any
}

// Parse reads a DOM as DumpDOM returns it. Chromium serializes every
// non-void element with its end tag, so a lenient XML reader with HTML's
// void elements and entities reads it whole.
func Parse(dom string) (*Node, error) {
	d := xml.NewDecoder(strings.NewReader(dom))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	root := &Node{Tag: "#document", Pos: -1}
	stack := []*Node{root}
	pos := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse DOM: %w", err)
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &Node{Tag: strings.ToLower(tok.Name.Local), Attrs: map[string]string{}, Pos: pos}
			pos++
			for _, a := range tok.Attr {
				n.Attrs[strings.ToLower(a.Name.Local)] = a.Value
			}
			top.Children = append(top.Children, n)
			top.content = append(top.content, n)
			stack = append(stack, n)
		case xml.EndElement:
			// Close up to the matching element; an end tag that
			// matches nothing open is dropped.
			name := strings.ToLower(tok.Name.Local)
			for i := len(stack) - 1; i > 0; i-- {
				if stack[i].Tag == name {
					stack = stack[:i]
					break
				}
			}
		case xml.CharData:
			top.content = append(top.content, string(tok))
		}
	}
	return root, nil
}

// Attr returns the value of the element's attribute name, "" if unset.
func (n *Node) Attr(name string) string { return n.Attrs[name] }

// ByID returns the element with the id, nil if there is none.
func (n *Node) ByID(id string) *Node {
	var found *Node
	n.walk(func(m *Node) bool {
		if m.Attrs["id"] == id {
			found = m
			return false
		}
		return true
	})
	return found
}

// All returns the elements below n with the tag, in document order.
func (n *Node) All(tag string) []*Node {
	var out []*Node
	n.walk(func(m *Node) bool {
		if m != n && m.Tag == tag {
			out = append(out, m)
		}
		return true
	})
	return out
}

// Contains reports whether m is n or below it.
func (n *Node) Contains(m *Node) bool {
	found := false
	n.walk(func(x *Node) bool {
		found = x == m
		return !found
	})
	return found
}

// Text returns the text of the element and everything below it, with runs
// of white space collapsed to one space, as a person reads it.
func (n *Node) Text() string {
	var b strings.Builder
	var add func(*Node)
	add = func(m *Node) {
		for _, c := range m.content {
			switch c := c.(type) {
			case string:
				b.WriteString(c)
			case *Node:
				if inline[c.Tag] {
					add(c)
					continue
				}
				// Cells and blocks read apart.
				b.WriteByte(' ')
				add(c)
				b.WriteByte(' ')
			}
		}
	}
	add(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// inline are the elements whose text runs on with the text around them.
var inline = map[string]bool{"a": true, "abbr": true, "b": true, "code": true, "em": true, "i": true, "small": true, "span": true, "strong": true, "time": true}

// walk calls f on n and every element below it in document order, until
// f returns false.
func (n *Node) walk(f func(*Node) bool) bool {
	if !f(n) {
		return false
	}
	for _, c := range n.Children {
		if !c.walk(f) {
			return false
		}
	}
	return true
}
