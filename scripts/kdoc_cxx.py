#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""kernel-doc for C++ headers.

The kernel's scripts/kernel-doc parses C. Our public headers are C++:
classes, templates, references, default arguments, operators, qualifiers
after the parameter list, attributes. This script lowers each header to C
views that kernel-doc reads, keeping every line where it was, runs the
kernel's own kernel-doc over them in warning mode, and adds the checks that
kernel-doc cannot make on C++ (Documentation/cxx-in-kernel.rst, "kernel-doc").

  kdoc_cxx.py check [--kernel-doc PATH] [FILE...]
        lower FILEs (default: every header under include/), run kernel-doc
        -none -Wall on the views and our own checks; print
        "FILE:LINE: warning: ..." lines; exit 1 on any
  kdoc_cxx.py lower FILE [LAYER]
        print the C view of FILE (one layer, default 0): what kernel-doc sees
  kdoc_cxx.py list FILE
        print the declarations found in FILE (debugging the parser)

Layers. kernel-doc reads a struct up to its closing brace and takes every
/** inside it for a member's inline description, so a method's doc block
inside a class body cannot be read in place. Each header therefore gives
one view per nesting level: layer 0 holds the namespace-scope declarations,
each class shown as a C struct of its data members; layer 1 holds the
members of those classes (methods, nested types) as if they were at file
scope, and so on. Everything else is blank in a view, so kernel-doc's line
numbers are the header's.

The lowering (what kernel-doc sees):
  class/struct/union X final : Base<T> {  ->  struct X {  (class: private first)
  public: / private: / protected:         ->  /* public: */ / /* private: */
  template <...> heads, attributes,       ->  removed
    [[...]], alignas(), ALL_CAPS(...) macros (GUARDED_BY, KEEL_EXPORT_AS),
    explicit/constexpr/inline/static/virtual/mutable
  Name<Args>, ns::Name                    ->  Name
  T &x, T &&x, T &&...x                   ->  T *x
  default arguments, member initialisers  ->  removed
  ) const noexcept override = 0 -> T      ->  )
  operator== / operator bool / ...        ->  operator_eq / operator_bool / ...
  enum class X : u8 {                     ->  enum X {
  using X = T;                            ->  typedef T X;
  constexpr/static data members           ->  members (described like fields)
The same name lowering applies to the title line of a doc block
("Class::method()" -> "method()", "class X" -> "struct X").

A declaration's doc block is moved to column 0 in its view: kernel-doc
only sees a block whose "/**" starts its line. A block must open with
"/**" alone on its line (kernel-doc skips "/** text" silently).

Our checks, beyond kernel-doc's:
  - a public declaration (function, class/struct/union, enum, type alias,
    function-like macro) has a doc block. Not required: private and
    protected members, namespace detail, names starting with "_",
    destructors, deleted or defaulted functions, copy and move
    constructors and assignments, friend declarations, deduction guides,
    members defined outside their class, macros #undef'd in the same
    header, constants and variables (their block is checked when they
    have one). Data members and member types are described in their
    class's block (@name:), as kernel-doc wants for struct members.
    Declarations of one function (same name and parameter types, in any
    header, #if branches included) share one block; so do a class
    template and its specialisations.
  - a function's or macro's block has a Context: section (kernel-doc checks
    Return: with -Wreturn, and each @parameter and @member).
  - a class or struct that holds a SpinLock or Mutex (not a reference to
    one) names each such member in its block, saying what it guards.
  - every doc block documents a declaration (none is left dangling).
"""

import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# The kernel line whose scripts/kernel-doc we run (the newest: most checks).
KERNEL_DOC_LINE = "6.12"

SPECIFIERS = {"explicit", "constexpr", "consteval", "constinit", "inline", "static", "virtual",
              "friend", "mutable", "typename", "extern", "register", "thread_local",
              "__always_inline", "__noinline", "__cold", "__noreturn", "__used", "__packed",
              "__must_check"}
# Attribute-like macros without arguments.
BARE_ATTRS = {"SCOPED_CAPABILITY", "NO_THREAD_SAFETY_ANALYSIS"}
LOCK_TYPES = {"SpinLock", "Mutex"}
OPERATORS = [("==", "eq"), ("!=", "ne"), ("<=>", "cmp"), ("<=", "le"), (">=", "ge"),
             ("<<=", "shl_assign"), (">>=", "shr_assign"), ("<<", "shl"), (">>", "shr"),
             ("<", "lt"), (">", "gt"), ("->*", "arrow_star"), ("->", "arrow"), ("++", "inc"),
             ("--", "dec"), ("+=", "add_assign"), ("-=", "sub_assign"), ("*=", "mul_assign"),
             ("/=", "div_assign"), ("%=", "mod_assign"), ("&=", "and_assign"),
             ("|=", "or_assign"), ("^=", "xor_assign"), ("&&", "land"), ("||", "lor"),
             ("()", "call"), ("[]", "index"), ("=", "assign"), ("+", "add"), ("-", "sub"),
             ("*", "star"), ("/", "div"), ("%", "mod"), ("&", "amp"), ("|", "or"),
             ("^", "xor"), ("~", "compl"), ("!", "not"), (",", "comma")]


# An operator function's name: operator==, operator(), operator new[],
# operator bool (a conversion).
OPNAME = r"operator\s*(?:\(\s*\)|(?:new|delete)\s*\[\s*\]|[^\w\s(]+|\w[\w\s:*&<>]*?)"


# ---------------------------------------------------------------- scanning

class Source:
    """A header with its comments and literals blanked in .code (same
    length, same newlines), its comments listed, preprocessor lines blanked
    and listed."""

    def __init__(self, path, text):
        self.path = path
        self.text = text
        self.lines = text.split("\n")
        self.comments = []      # (start, end, is_doc)
        self.pp = []            # (start, end, text) of each directive
        self.line_starts = [0]
        for i, c in enumerate(text):
            if c == "\n":
                self.line_starts.append(i + 1)
        self.code = self._blank()

    def line_of(self, pos):
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= pos:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1

    def _blank(self):
        t = self.text
        out = list(t)
        i, n = 0, len(t)
        at_line_start = True

        def blank(a, b):
            for k in range(a, b):
                if out[k] != "\n":
                    out[k] = " "

        while i < n:
            c = t[i]
            if c == "\n":
                at_line_start = True
                i += 1
                continue
            if at_line_start and c == "#":
                j = i
                while True:
                    e = t.find("\n", j)
                    if e < 0:
                        e = n
                        break
                    # a comment inside the directive may span lines
                    seg = t[j:e]
                    k = seg.find("/*")
                    if k >= 0 and seg.find("*/", k) < 0:
                        ce = t.find("*/", j + k)
                        j = ce + 2 if ce >= 0 else n
                        continue
                    if e > 0 and t[e - 1] == "\\":
                        j = e + 1
                        continue
                    break
                self.pp.append((i, e, t[i:e]))
                blank(i, e)
                i = e
                continue
            if c in " \t":
                i += 1
                continue
            at_line_start = False
            if t.startswith("//", i):
                e = t.find("\n", i)
                e = n if e < 0 else e
                self.comments.append((i, e, False))
                blank(i, e)
                i = e
                continue
            if t.startswith("/*", i):
                e = t.find("*/", i + 2)
                e = n if e < 0 else e + 2
                is_doc = t.startswith("/**", i) and not t.startswith("/**/", i)
                self.comments.append((i, e, is_doc))
                blank(i, e)
                i = e
                continue
            if c in "\"'":
                # raw strings are not used in headers; a ' inside a number
                # (1'000) is not either
                j = i + 1
                while j < n and t[j] != c:
                    j += 2 if t[j] == "\\" else 1
                blank(i + 1, j)
                i = j + 1
                continue
            i += 1
        return "".join(out)


# ---------------------------------------------------------------- declarations

class Decl:
    def __init__(self, kind, name, start, end, scope, access, layer):
        self.kind = kind        # function class enum alias macro var member ignore
        self.name = name
        self.start = start      # offsets in the source
        self.end = end
        self.scope = scope      # enclosing class Decl or None
        self.access = access
        self.layer = layer
        self.doc = None         # (start, end) of its doc comment
        self.members = []       # a class's data members, access markers, inline docs
        self.children = []      # a class's other declarations
        self.head = ""          # code text of the declaration up to its body
        self.body = None        # (start, end) of the braces of a class or enum
        self.public_ns = True   # not in namespace detail
        self.params = ""        # a function's normalised parameter types
        self.keyword = ""       # class, struct, union
        self.exempt = ""        # why no doc block is needed

    def is_public(self):
        if not self.public_ns or self.access != "public":
            return False
        return self.scope is None or self.scope.is_public()


def match_close(code, i):
    """Offset just past the bracket that closes the one at code[i]."""
    pairs = {"(": ")", "[": "]", "{": "}", "<": ">"}
    stack = [pairs[code[i]]]
    angle = code[i] == "<"
    j = i + 1
    n = len(code)
    while j < n and stack:
        c = code[j]
        if c in "([{":
            stack.append(pairs[c])
        elif angle and c == "<":
            stack.append(">")
        elif c in ")]}" or (angle and c == ">" and stack[-1] == ">"):
            if c == ">" and code[j - 1] == "-":
                j += 1
                continue
            stack.pop()
        j += 1
    return j


def skip_template_heads(text):
    """text without leading "template <...>" heads."""
    while True:
        m = re.match(r"\s*template\s*<", text)
        if not m:
            return text
        text = text[match_close(text, m.end() - 1):]


def strip_attributes(text):
    out = text
    while True:
        m = re.search(r"\[\[|\b(__attribute__|alignas|noexcept|__printf|decltype|"
                      r"[A-Z][A-Z0-9_]*[A-Z0-9])\s*\(", out)
        if not m:
            break
        if m.group(0) == "[[":
            e = out.find("]]", m.start())
            out = out[:m.start()] + " " + out[e + 2:]
            continue
        word = m.group(1)
        e = match_close(out, m.end() - 1)
        repl = " auto " if word == "decltype" else " "
        out = out[:m.start()] + repl + out[e:]
    out = re.sub(r"\b(" + "|".join(BARE_ATTRS) + r")\b", " ", out)
    out = re.sub(r"\bnoexcept\b", " ", out)
    return out


def strip_template_args(text):
    """Name<Args> -> Name, ns::Name -> Name."""
    out = text
    while True:
        m = re.search(r"([\w\)])\s*<(?![<=])", out)
        if not m or re.search(r"\boperator\s*$", out[:m.end() - 1]):
            break
        e = match_close(out, m.end() - 1)
        out = out[:m.end() - 1] + out[e:]
    out = re.sub(r"(::)?\b\w+\s*::\s*(?=[\w~*])", "", out)
    out = re.sub(r"^\s*::", "", out)
    return out


def split_top(text, sep=","):
    parts, depth, cur = [], 0, ""
    i = 0
    while i < len(text):
        c = text[i]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "<" and re.search(r"\w\s*$", cur) and not re.search(r"\boperator\s*$", cur):
            e = match_close(text, i)
            cur += text[i:e]
            i = e
            continue
        if c == sep and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        parts.append(cur)
    return parts


def strip_default(param):
    """A parameter without its default argument."""
    depth = 0
    for i, c in enumerate(param):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == "=" and depth == 0 and param[i + 1:i + 2] != "=" and \
                param[i - 1:i] not in ("=", "!", "<", ">"):
            return param[:i]
    return param


def lower_type(t):
    t = strip_attributes(t)
    t = re.sub(r"\b(" + "|".join(SPECIFIERS) + r")\b", " ", t)
    t = strip_template_args(t)
    t = re.sub(r"\.\.\.", " ", t)
    t = re.sub(r"&&|&", "*", t)
    return re.sub(r"\s+", " ", t).strip()


def lower_param(p):
    p = strip_default(p).strip()
    if p in ("", "void", "..."):
        return p
    return lower_type(p)


def is_unnamed(p):
    """A lowered parameter that is a type only ("void *", "Gfp")."""
    if p in ("", "void", "..."):
        return False
    if re.search(r"\(\s*\*\s*\w+\s*\)", p):
        return False
    words = [w for w in re.findall(r"\w+", re.sub(r"\[[^\]]*\]", "", p))
             if w not in ("const", "volatile", "struct", "union", "enum", "unsigned", "signed")]
    return len(words) <= 1


def param_types(params):
    """The parameter types of a parameter list, names dropped."""
    out = []
    for p in split_top(params):
        p = lower_param(p)
        m = re.match(r"(.*?)(\w+)\s*((\[[^\]]*\])*)$", p)
        if m and m.group(1).strip() and m.group(2) not in ("int", "char", "long", "void"):
            p = m.group(1) + m.group(3)
        out.append(re.sub(r"\s+", "", p))
    return ",".join(out)


def operator_name(text):
    """'operator==' -> 'operator_eq', 'operator bool' -> 'operator_bool'."""
    m = re.match(r"operator\s*(.*)$", text.strip())
    rest = m.group(1).strip()
    for sym, word in OPERATORS:
        if rest == sym:
            return "operator_" + word
    rest = re.sub(r"\s+", "", rest) if rest.startswith(("new", "delete")) else rest
    if rest in ("new", "delete", "new[]", "delete[]"):
        return "operator_" + rest.replace("[]", "_array")
    return "operator_" + re.sub(r"\W+", "_", lower_type(rest)).strip("_")


def lower_name(name):
    name = name.strip()
    name = re.sub(r"^(\w+\s*(<[^>]*>)?\s*::\s*)+", "", name)
    if name.startswith("operator"):
        return operator_name(name)
    return re.sub(r"<.*>", "", name).strip()


class Parser:
    def __init__(self, src):
        self.src = src
        self.code = src.code
        self.decls = []

    def parse(self):
        self.scope_body(0, len(self.code), None, "public", 0, True)
        self.macros()
        self.attach_docs()
        return self.decls

    def add(self, d):
        self.decls.append(d)
        if d.scope is not None and d.kind not in ("member", "access"):
            d.scope.children.append(d)
        return d

    def macros(self):
        undefined = {m.group(1) for _, _, text in self.src.pp
                     for m in [re.match(r"#\s*undef\s+(\w+)", text)] if m}
        for start, end, text in self.src.pp:
            m = re.match(r"#\s*define\s+(\w+)(\()?", text)
            if not m:
                continue
            name = m.group(1)
            d = Decl("macro" if m.group(2) else "objmacro", name, start, end, None, "public", 0)
            d.head = text.split("\n")[0].rstrip("\\").rstrip()
            if re.match(r"\w+_H$", name) and not m.group(2):
                d.kind = "guard"
            if name in undefined:
                d.exempt = "local to the header (#undef)"
            self.add(d)

    def scope_body(self, pos, end, cls, access, layer, public_ns):
        code = self.code
        while True:
            while pos < end and code[pos] in " \t\n;":
                pos += 1
            if pos >= end:
                return
            m = re.compile(r"(public|private|protected)\s*:(?!:)").match(code, pos)
            if m:
                d = Decl("access", m.group(1), pos, m.end(), cls, m.group(1), layer)
                if cls is not None:
                    cls.members.append(d)
                access = m.group(1)
                pos = m.end()
                continue
            pos = self.statement(pos, end, cls, access, layer, public_ns)

    def statement(self, pos, end, cls, access, layer, public_ns):
        """Parses one declaration at pos; returns the offset after it."""
        code = self.code
        i = pos
        while i < end:
            c = code[i]
            if c in "([":
                i = match_close(code, i)
                continue
            if c == ";":
                self.simple(pos, i, i + 1, cls, access, layer, public_ns)
                return i + 1
            if c == "{":
                return self.with_body(pos, i, end, cls, access, layer, public_ns)
            if c == "}":
                # stray closing brace: end of an enclosing scope we did not see
                return i + 1
            if c == ":" and code[i + 1] != ":" and code[i - 1] != ":" and \
                    re.search(r"\)\s*(const\s*)?(noexcept\s*)?$", code[pos:i]) and \
                    re.search(r"\(", code[pos:i]):
                # constructor initialiser list: skip to the body
                j = i + 1
                while j < end:
                    while code[j] in " \t\n,":
                        j += 1
                    m = re.compile(r"[\w:]+\s*(<[^>{}]*>)?\s*").match(code, j)
                    if m and code[m.end()] in "({" and m.end() > j:
                        k = m.end()
                        j = match_close(code, k)
                        while code[j] in " \t\n":
                            j += 1
                        if code[j] == ",":
                            continue
                        if code[j] == "{":
                            self.function(pos, i, j, match_close(code, j), cls, access,
                                          layer, public_ns)
                            return match_close(code, j)
                    break
                i += 1
                continue
            i += 1
        return end

    def kind_of(self, head):
        """Classifies the code text of a declaration (before ; or {)."""
        h = skip_template_heads(head).strip()
        h = strip_attributes(h)
        if re.match(r"(friend|static_assert|using\s+namespace)\b", h):
            return "ignore", None
        m = re.match(r"using\s+(\w+)\s*=", h)
        if m:
            return "alias", m.group(1)
        if re.match(r"using\b", h):
            return "ignore", None
        if re.match(r"typedef\b", h):
            m = re.search(r"\(\s*\*\s*(\w+)\s*\)", h) or re.search(r"(\w+)\s*(\[[^\]]*\])*\s*$", h)
            return "alias", m.group(1)
        if re.match(r"(class|struct|union|enum)\b[^(=]*$", h):
            return "fwd", None
        # deduction guide: Name(params) -> Type
        if re.match(r"[\w:]+\s*\(.*\)\s*->", h, re.S):
            return "ignore", None
        return self.func_or_var(h)

    def func_or_var(self, h):
        h2 = re.sub(r"\b(" + "|".join(SPECIFIERS) + r")\b", " ", h)
        # the first parenthesis at depth 0 that is not part of the type
        i = 0
        while i < len(h2):
            c = h2[i]
            if c == "=" and not re.search(r"\boperator\s*[^\w\s(]*$", h2[:i]) and \
                    h2[i + 1:i + 2] != "=":
                break
            if c == "<" and re.search(r"\w\s*$", h2[:i]) and \
                    not re.search(r"\boperator\s*$", h2[:i]):
                i = match_close(h2, i)
                continue
            if c == "(":
                before = h2[:i].rstrip()
                inner = h2[i + 1:].lstrip()
                if inner.startswith("*") or inner.startswith("&"):
                    # a function pointer variable: T (*name)(args)
                    if not re.search(r"\boperator\s*\W*$", before):
                        return "var", re.match(r"[*&\s]*(\w+)", inner).group(1)
                m = re.search(r"(" + OPNAME + r"|~?\w+)\s*$", before)
                if m:
                    if re.search(r"::\s*$", before[:m.start()]):
                        return "outofclass", m.group(1)
                    return "function", m.group(1)
                return "ignore", None
            i += 1
        h2 = re.sub(r"\{[^{}]*\}\s*$", "", h2.strip())
        m = re.search(r"(\w+)\s*(\[[^\]]*\])*\s*(:\s*\d+\s*)?(=.*)?$", h2.strip(), re.S)
        if m:
            return "var", m.group(1)
        return "ignore", None

    def simple(self, pos, end, after, cls, access, layer, public_ns):
        head = self.code[pos:end]
        kind, name = self.kind_of(head)
        d = Decl(kind, name, pos, after, cls, access, layer)
        d.head = head
        d.public_ns = public_ns
        if kind == "function":
            self.function_details(d)
            if re.search(r"=\s*(delete|default)\s*$", head):
                d.exempt = "deleted or defaulted"
        elif kind in ("var", "alias") and cls is not None:
            # data members and member types: described in the class's block
            d.kind = "member"
            cls.members.append(d)
        if re.match(r"\s*friend\b", head):
            d.kind = "ignore"
        self.add(d)

    def function_details(self, d):
        h = skip_template_heads(d.head)
        h = strip_attributes(h)
        i = h.find("(", h.find(d.name.split()[0]) + len(d.name.split()[0]))
        if d.name.startswith("operator") and d.name.replace(" ", "") == "operator()":
            i = h.find("(", h.find(")", h.find("operator")))
        if i >= 0:
            e = match_close(h, i)
            d.params = param_types(h[i + 1:e - 1])
        if d.name.startswith("~"):
            d.exempt = "destructor"
        cls = d.scope.name if d.scope is not None else None
        if cls and i >= 0 and (d.name == cls or re.match(r"operator\s*=$", d.name)):
            only = h[i + 1:e - 1].strip()
            if re.match(r"(const\s+)?" + re.escape(cls) + r"\s*(<[^()]*>)?\s*&{1,2}\s*\w*$", only):
                d.exempt = "copy or move"

    def function(self, pos, head_end, body, after, cls, access, layer, public_ns):
        head = self.code[pos:head_end]
        kind, name = self.kind_of(head)
        if kind == "outofclass":
            # a member defined outside its class: documented at its declaration
            kind = "ignore"
        elif kind != "function":
            kind, name = "ignore", None
        d = Decl(kind, name, pos, after, cls, access, layer)
        d.head = head
        d.public_ns = public_ns
        if kind == "function":
            self.function_details(d)
        self.add(d)

    def with_body(self, pos, brace, end, cls, access, layer, public_ns):
        code = self.code
        head = code[pos:brace]
        close = match_close(code, brace)
        h = strip_attributes(skip_template_heads(head)).strip()
        m = re.match(r"namespace\b\s*([\w:]*)", h)
        if m:
            ns_public = public_ns and "detail" not in m.group(1).split("::")
            self.scope_body(brace + 1, close - 1, cls, "public", layer, ns_public)
            return close
        if re.match(r'extern\s*"\s*"\s*$', h):
            self.scope_body(brace + 1, close - 1, cls, access, layer, public_ns)
            return close
        m = re.match(r"(class|struct|union)\b\s*([\w\s]*?)((\w+\s*(<[^{]*?>)?\s*::\s*)*\w+)?"
                     r"\s*(<[^{]*>)?\s*(final\s*)?(:[^{]*)?$", h, re.S)
        if m:
            after = self.after_body(close, end)
            name = m.group(3)
            qualified = name and "::" in name
            if qualified:
                name = re.sub(r".*::\s*", "", name)
            d = Decl("class" if name else "anon", name, pos, after, cls, access, layer)
            if qualified:
                d.exempt = "defined out of its class"
            d.keyword = m.group(1)
            d.head = head
            d.body = (brace, close)
            d.public_ns = public_ns
            if cls is not None and not name:
                # an anonymous struct/union: part of the data members
                d.kind = "member"
                cls.members.append(d)
                self.add(d)
                return after
            self.add(d)
            inner_access = "private" if m.group(1) == "class" else "public"
            self.scope_body(brace + 1, close - 1, d, inner_access, layer + 1, public_ns)
            return after
        m = re.match(r"enum\b\s*(class|struct)?\s*(\w+)?\s*(:[^{]*)?$", h)
        if m:
            after = self.after_body(close, end)
            d = Decl("enum", m.group(2), pos, after, cls, access, layer)
            d.head = head
            d.body = (brace, close)
            d.public_ns = public_ns
            self.add(d)
            return after
        kind, name = self.kind_of(head)
        if kind in ("function", "outofclass"):
            self.function(pos, brace, brace, close, cls, access, layer, public_ns)
            return close
        # a variable with a braced initialiser, up to its ;
        j = close
        while j < end and code[j] != ";":
            j = match_close(code, j) if code[j] in "({[" else j + 1
        self.simple(pos, j, j + 1, cls, access, layer, public_ns)
        return j + 1

    def after_body(self, close, end):
        j = close
        while j < end and self.code[j] != ";":
            j += 1
        return min(j + 1, end)

    def attach_docs(self):
        """Each doc comment documents the declaration that follows it, with
        only blanks and plain comments between them."""
        docs = [(s, e) for s, e, doc in self.src.comments if doc]
        starts = sorted((d.start, k) for k, d in enumerate(self.decls)
                        if d.kind not in ("access",))
        self.dangling = []
        import bisect
        keys = [s for s, _ in starts]
        for s, e in docs:
            k = bisect.bisect_left(keys, e)
            gap_ok = False
            if k < len(starts):
                d = self.decls[starts[k][1]]
                gap = self.src.text[e:d.start]
                gap_code = self.code[e:d.start]
                gap_ok = gap_code.strip() == "" and "/**" not in gap
            text = self.src.text[s:e]
            inline = re.match(r"/\*\*\s*@[\w.]+(\.\.\.)?\s*:", text)
            if gap_ok and not inline:
                d.doc = (s, e)
            elif inline:
                cls = self.enclosing_class(s)
                if cls is None:
                    self.dangling.append((s, "inline member doc outside a struct"))
                else:
                    cls.members.append(Decl("inline_doc", None, s, e, cls, "public", 0))
            else:
                self.dangling.append((s, "doc block is not followed by a declaration"))
        for d in self.decls:
            if d.kind == "class":
                d.members.sort(key=lambda m: m.start)

    def enclosing_class(self, pos):
        best = None
        for d in self.decls:
            if d.kind == "class" and d.body and d.body[0] < pos < d.body[1]:
                if best is None or d.body[0] > best.body[0]:
                    best = d
        return best


# ---------------------------------------------------------------- lowering

def lower_function(d):
    h = skip_template_heads(d.head)
    h = re.sub(r"\s+", " ", strip_attributes(h)).strip()
    h = re.sub(r"\b(" + "|".join(SPECIFIERS) + r")\b", " ", h).strip()
    name = d.name
    # the parameter list: the parenthesis after the name
    if re.match(r"operator\s*\(\s*\)", name):
        k = h.find(")", h.find("operator")) + 1
    else:
        k = h.find(name) + len(name) if not name.startswith("operator") else \
            h.find("operator") + len(re.match(OPNAME + r"\s*(?=\()", h[h.find("operator"):]).group(0))
    i = h.find("(", k)
    e = match_close(h, i)
    ret = h[:h.rfind(name, 0, i) if not name.startswith("operator") else h.find("operator")]
    params = h[i + 1:e - 1]
    tail = h[e:]
    ret = lower_type(ret)
    t = re.search(r"->\s*(.*?)\s*(=.*)?$", tail)
    if ret == "auto" and t:
        ret = lower_type(t.group(1))
    lp = []
    for p in split_top(params):
        p = lower_param(p)
        if is_unnamed(p):
            # an unnamed (unused) parameter: nothing to describe
            continue
        lp.append(p)
    lname = lower_name(name)
    if lname.startswith("~"):
        lname = "destroy_" + lname[1:]
    return f"{ret + ' ' if ret else ''}{lname}({', '.join(lp)});"


def lower_member(src, m):
    """A data member as a C struct member."""
    if m.kind == "anon":
        return None
    if re.match(r"\s*(template\s*<.*>)?\s*(using|typedef)\b", m.head, re.S):
        return alias_c(m.head)
    h = strip_attributes(skip_template_heads(m.head))
    # the initialiser
    h = strip_default(h)
    h = re.sub(r"\{[^{}]*\}\s*$", "", h.strip())
    h = re.sub(r"\b(" + "|".join(SPECIFIERS) + r")\b", " ", h)
    fp = re.match(r"(.*?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)\s*$", h.strip(), re.S)
    if fp:
        params = ", ".join(lower_param(p) for p in split_top(fp.group(3)))
        return f"{lower_type(fp.group(1))} (*{fp.group(2)})({params});"
    bits = ""
    mb = re.search(r":\s*(\d+)\s*$", h)
    if mb:
        bits = f" : {mb.group(1)}"
        h = h[:mb.start()]
    arr = ""
    ma = re.search(r"((\[[^\]]*\])+)\s*$", h)
    if ma:
        arr = "[" + "][".join("N" for _ in re.findall(r"\[", ma.group(1))) + "]"
        h = h[:ma.start()]
    mn = re.search(r"(\w+)\s*$", h)
    if not mn:
        return None
    t = lower_type(h[:mn.start()]) or "int"
    return f"{t} {mn.group(1)}{arr}{bits};"


def lower_title(line):
    """The title line of a doc block, with the name lowered as the
    declaration is."""
    m = re.match(r"(\s*(/\*\*|\*)\s*)(.*)$", line)
    if not m:
        return line
    lead, rest = m.group(1), m.group(3)
    if not rest.strip():
        return line
    mk = re.match(r"(class|struct|union|enum|typedef)\s+([^\s-]+)(.*)$", rest)
    if mk:
        kw = "struct" if mk.group(1) == "class" else mk.group(1)
        return f"{lead}{kw} {lower_name(mk.group(2))}{mk.group(3)}"
    if rest.startswith("DOC:") or rest.startswith("@"):
        return line
    # Class::method() names the member kernel-doc sees as method()
    rest = re.sub(r"^\s*(\w+\s*(<[^<>]*>)?\s*::\s*)+", "", rest)
    mf = re.match(r"(.*?\b" + OPNAME + r"|[\w:~<>, ]+?)\s*(\(\s*\))?(\s*[-:].*)?$", rest)
    if mf and mf.group(1):
        return f"{lead}{lower_name(mf.group(1))}{mf.group(2) or ''}{mf.group(3) or ''}"
    return line


class View:
    def __init__(self, src):
        self.src = src
        self.lines = [""] * len(src.lines)

    def put(self, pos, text):
        ln = self.src.line_of(pos) - 1
        self.lines[ln] = (self.lines[ln] + " " + text).strip() if self.lines[ln] else text

    def copy(self, start, end, title=True):
        """Copies the comment [start, end) to its lines. A declaration's
        doc block (title=True) is moved to column 0: kernel-doc only sees
        a block whose "/**" starts its line."""
        a, b = self.src.line_of(start) - 1, self.src.line_of(end - 1) - 1
        col = start - self.src.line_starts[a]
        titled = False
        for k in range(a, b + 1):
            line = self.src.lines[k]
            if k == a:
                line = " " * col + line[col:]
            if title:
                line = line.lstrip() if k == a else " " + line.lstrip()
            if not titled and title and re.match(r"\s*(/\*\*|\*)\s*\S", line) and \
                    not re.match(r"\s*\*/", line):
                line = lower_title(line)
                titled = True
            if k == b:
                endcol = end - self.src.line_starts[b]
                line = line[:endcol]
            if self.lines[k]:
                self.lines[k] += " " + line.strip()
            else:
                self.lines[k] = line

    def text(self):
        return "\n".join(self.lines) + "\n"


def render(src, decls, layer):
    v = View(src)
    for d in decls:
        if d.layer != layer or d.doc is None:
            continue
        if d.kind in ("member", "access", "inline_doc", "ignore", "fwd", "guard"):
            if d.kind in ("ignore", "fwd"):
                v.copy(*d.doc)
                v.put(d.start, "typedef int kdoc_nothing;")
            continue
        v.copy(*d.doc)
        if d.kind == "function":
            v.put(d.start, lower_function(d))
        elif d.kind == "macro" or d.kind == "objmacro":
            v.put(d.start, d.head)
        elif d.kind in ("var",):
            m = re.search(r"=\s*(.*)$", d.head, re.S)
            value = re.sub(r"\s+", " ", m.group(1)) if m else "1"
            v.put(d.start, f"#define {d.name} {value}")
        elif d.kind == "alias":
            render_alias(v, d)
        elif d.kind == "enum":
            render_enum(v, src, d)
        elif d.kind in ("class", "anon"):
            render_class(v, src, d)
    return v.text()


def alias_c(head):
    """A type alias as a C typedef."""
    h = strip_attributes(skip_template_heads(head)).strip()
    m = re.match(r"using\s+(\w+)\s*=\s*(.*)$", h, re.S)
    if m:
        t = m.group(2).strip()
        fp = re.match(r"(.*?)\(\s*\*\s*\)\s*\((.*)\)\s*$", t, re.S)
        if fp:
            params = ", ".join(lower_param(p) for p in split_top(fp.group(2)))
            return f"typedef {lower_type(fp.group(1))} (*{m.group(1)})({params});"
        return f"typedef {lower_type(t)} {m.group(1)};"
    return re.sub(r"\s+", " ", lower_type(h)) + ";"


def render_alias(v, d):
    v.put(d.start, alias_c(d.head))


def render_enum(v, src, d):
    v.put(d.start, f"enum {d.name or ''} {{")
    code = src.code
    a, b = d.body
    # each enumerator at its line
    pos = a + 1
    for part in split_top(code[a + 1:b - 1]):
        name = re.search(r"\w+", part)
        if name:
            v.put(pos + name.start(), name.group(0) + ",")
        pos += len(part) + 1
    # inline member docs in the body
    for s, e, doc in src.comments:
        if doc and a < s < b:
            v.copy(s, e, title=False)
    v.put(b - 1, "};")


def render_class(v, src, d):
    head = f"struct {d.name or ''} {{"
    if d.keyword == "class":
        head += " /* private: */"
    v.put(d.start, head)
    for m in d.members:
        if m.kind == "access":
            v.put(m.start, "/* public: */" if m.name == "public" else "/* private: */")
        elif m.kind == "inline_doc":
            v.copy(m.start, m.end, title=False)
        elif m.kind == "anon":
            render_anon(v, src, m)
        elif m.kind == "member":
            if m.doc:
                v.copy(*m.doc, title=False)
            low = lower_member(src, m)
            if low:
                v.put(m.start, low)
    v.put(d.body[1] - 1, "};")


def render_anon(v, src, m):
    v.put(m.start, f"{m.keyword} {{")
    for c in m.children + m.members:
        if c.kind == "member":
            low = lower_member(src, c)
            if low:
                v.put(c.start, low)
        elif c.kind == "inline_doc":
            v.copy(c.start, c.end, title=False)
    v.put(m.body[1] - 1, "};")


# ---------------------------------------------------------------- our checks

def doc_text(src, d):
    return src.text[d.doc[0]:d.doc[1]]


def needs_doc(d):
    if d.kind not in ("function", "class", "enum", "alias", "macro"):
        return False
    if d.exempt or not d.is_public():
        return False
    if d.kind == "class" and d.name is None:
        return False
    if d.kind == "enum" and d.name is None:
        return False
    name = d.name or ""
    if name.startswith("__") or name.startswith("_"):
        return False
    return True


def own_checks(src, decls, dangling, documented_elsewhere=None):
    out = []

    def warn(pos, msg):
        out.append((src.line_of(pos), msg))

    for pos, msg in dangling:
        warn(pos, msg)
    # one documented declaration per function signature, per #if group
    documented = {}
    for d in decls:
        if d.doc is not None:
            documented.setdefault(key_of(d), []).append(d)
    for k, v in (documented_elsewhere or {}).items():
        if k not in documented:
            documented[k] = v
    for d in decls:
        if needs_doc(d) and d.doc is None:
            if documented.get(key_of(d)):
                continue
            what = {"function": "function", "class": d.keyword or "class", "enum": "enum",
                    "alias": "type", "macro": "macro"}[d.kind]
            warn(d.start, f"no kernel-doc for public {what} '{d.name}'")
        if d.doc is None:
            continue
        text = doc_text(src, d)
        if not re.match(r"/\*\*[ \t]*\n", text):
            warn(d.doc[0], f"the kernel-doc of '{d.name}' must open with '/**' alone on its "
                 "line (kernel-doc skips it otherwise)")
        if d.kind in ("function", "macro") and not re.search(r"^\s*\*\s*Context:", text, re.M):
            warn(d.doc[0], f"no 'Context:' in the kernel-doc of '{d.name}'")
        if d.kind == "class":
            for m in d.members:
                head = re.sub(r"\b(" + "|".join(SPECIFIERS) + r")\b", " ",
                              strip_attributes(m.head))
                # an owned lock (not a reference or pointer to one)
                if m.kind == "member" and m.name and re.match(
                        r"\s*(keel\s*::\s*)?(" + "|".join(LOCK_TYPES) + r")\s+\w", head):
                    if not re.search(r"\b" + re.escape(m.name) + r"\b", text):
                        warn(d.doc[0], f"the kernel-doc of '{d.name}' does not say what "
                             f"'{m.name}' guards")
    return out


def key_of(d):
    """Declarations with one key share one doc block: the declarations of
    one function (same parameter types), a class template and its
    specialisations."""
    scope = []
    s = d.scope
    while s is not None:
        scope.append(s.name or "")
        s = s.scope
    return (d.kind, tuple(scope), d.name, d.params if d.kind == "function" else "")


# ---------------------------------------------------------------- driver

def parse_file(path, rel):
    with open(path, encoding="utf-8") as f:
        src = Source(rel, f.read())
    p = Parser(src)
    decls = p.parse()
    return src, decls, p.dangling


def find_kernel_doc():
    """The kernel's scripts/kernel-doc: from the shared source tree that the
    kernel runs extract (tools/testing/kunit/run_qemu.py), else, where that
    cache cannot be written (a user without rights to it, a hosted-only
    machine), the one file taken from the tarball into build/."""
    sys.path.insert(0, os.path.join(REPO, "tools", "testing", "kunit"))
    import run_qemu
    tarball = f"/usr/src/linux-source-{KERNEL_DOC_LINE}.tar.xz"
    if not os.path.exists(tarball):
        raise SystemExit(f"kernel-doc: linux-source-{KERNEL_DOC_LINE} missing "
                         "(scripts/install-deps.sh hosted installs it)")
    try:
        src, ver = run_qemu.source_tree(run_qemu.get_line(KERNEL_DOC_LINE))
        path = os.path.join(src, "scripts", "kernel-doc")
        if os.path.exists(path):
            return path
    except OSError:
        ver = run_qemu.pkg_version(f"linux-source-{KERNEL_DOC_LINE}")
    path = os.path.join(REPO, "build", "kernel-doc", ver, "kernel-doc")
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            subprocess.run(["tar", "-xOf", tarball,
                            f"linux-source-{KERNEL_DOC_LINE}/scripts/kernel-doc"],
                           stdout=f, check=True)
        os.rename(path + ".tmp", path)
    return path


def documented_in(files):
    """The keys of the documented declarations of @files: a function
    declared again in another header (a C prototype repeated for C++) needs
    its block once."""
    keys = {}
    for rel in files:
        _, decls, _ = parse_file(os.path.join(REPO, rel), rel)
        for d in decls:
            if d.doc is not None and d.scope is None:
                keys.setdefault(key_of(d), []).append(d)
    return keys


def check(files, kernel_doc, outdir):
    results = []
    views = {}
    elsewhere = documented_in(header_files())
    for rel in files:
        src, decls, dangling = parse_file(os.path.join(REPO, rel), rel)
        for line, msg in own_checks(src, decls, dangling, elsewhere):
            results.append((rel, line, msg))
        layers = sorted({d.layer for d in decls if d.doc is not None})
        for layer in layers:
            root = os.path.join(outdir, f"layer{layer}")
            dst = os.path.join(root, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            with open(dst, "w") as f:
                f.write(render(src, decls, layer))
            views.setdefault(root, []).append(rel)
    for root, rels in sorted(views.items()):
        r = subprocess.run(["perl", kernel_doc, "-none", "-Wall"] + rels, cwd=root,
                           capture_output=True, text=True)
        for ln in (r.stdout + r.stderr).splitlines():
            m = re.match(r"(\S+?):(\d+): (warning|error): (.*)$", ln)
            if m:
                results.append((m.group(1), int(m.group(2)), m.group(4)))
            elif ln.strip() and not re.match(r"\d+ warnings?$", ln.strip()):
                results.append((rels[0], 0, ln.strip()))
    seen = set()
    out = []
    for rel, line, msg in sorted(results):
        if (rel, line, msg) in seen:
            continue
        seen.add((rel, line, msg))
        out.append(f"{rel}:{line}: warning: {msg}")
    return out


def header_files():
    out = subprocess.run(["git", "ls-files", "include/*.h"], cwd=REPO, capture_output=True,
                         text=True).stdout.split()
    if not out:
        out = []
        for root, _, names in os.walk(os.path.join(REPO, "include")):
            out += [os.path.relpath(os.path.join(root, n), REPO) for n in names
                    if n.endswith(".h")]
    return sorted(out)


def main(argv):
    if len(argv) < 2 or argv[1] not in ("check", "lower", "list"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    cmd = argv[1]
    args = argv[2:]
    if cmd == "lower":
        src, decls, _ = parse_file(args[0], args[0])
        sys.stdout.write(render(src, decls, int(args[1]) if len(args) > 1 else 0))
        return 0
    if cmd == "list":
        src, decls, dangling = parse_file(args[0], args[0])
        for d in decls:
            if d.kind in ("access", "inline_doc"):
                continue
            print(f"{src.line_of(d.start)}: L{d.layer} {d.kind:8} {d.access:9} "
                  f"{'pub' if d.is_public() else '   '} {'doc' if d.doc else '   '} "
                  f"{d.name} {d.params!r} {d.exempt}")
        for pos, msg in dangling:
            print(f"{src.line_of(pos)}: {msg}")
        return 0
    kernel_doc = None
    if args[:1] == ["--kernel-doc"]:
        kernel_doc, args = args[1], args[2:]
    files = args or header_files()
    if kernel_doc is None:
        kernel_doc = find_kernel_doc()
    outdir = os.path.join(REPO, "build", "kdoc")
    shutil.rmtree(outdir, ignore_errors=True)
    out = check(files, kernel_doc, outdir)
    for ln in out:
        print(ln)
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
