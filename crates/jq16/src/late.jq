# Definitions that shadow jaq's for templates, written to behave as jq 1.6's
# builtins behave, including their quirks (noted where surprising).

# Paths: setting pads arrays with nulls; several deletions see the value as it was.
def setpath($p; $v): _jq16_setpath($p; $v);
def delpaths($ps): _jq16_delpaths($ps);
def del(f): delpaths([path(f)]);
def to_entries: [keys_unsorted[] as $k | {key: $k, value: .[$k]}];
def _jq16_assign(p; v): v as $v | reduce path(p) as $q (.; setpath($q; $v));
def _jq16_modify(p; f): reduce path(p) as $q (.; label $out | (setpath($q; getpath($q) | f) | ., break $out), delpaths([$q]));

# Strings: jq 1.6 lets anything that is not a string through.
def ltrimstr($x): if type == "string" and ($x | type) == "string" and startswith($x) then .[($x | length):] else . end;
def rtrimstr($x): if type == "string" and ($x | type) == "string" and endswith($x) then .[:length - ($x | length)] else . end;
# null joins as "", numbers and booleans as text; anything else cannot be added.
def join($x): reduce .[] as $i (null;
  (if . == null then "" else . + $x end)
  + ($i | if type == "boolean" or type == "number" then tostring else . // "" end)) // "";

# Objects and arrays
def from_entries: map({(.key // .Key // .name // .Name | _jq16_key): (if has("value") then .value else .Value end)}) | add | . // {};
def with_entries(f): to_entries | map(f) | from_entries;
def _jq16_flatten($depth): reduce .[] as $item ([];
  if ($item | type) == "array" and $depth != 0 then . + ($item | _jq16_flatten($depth - 1)) else . + [$item] end);
def flatten($depth): if $depth < 0 then error("flatten depth must not be negative") else _jq16_flatten($depth) end;
def flatten: _jq16_flatten(-1);
# Bottom-up: children first, then the value itself.
def walk(f): def w: . as $in
  | if type == "object" then reduce keys_unsorted[] as $k ({}; . + {($k): ($in[$k] | w)}) | f
    elif type == "array" then map(w) | f
    else f end;
  w;
def leaf_paths: paths(scalars);

# Generators. jq 1.6 gives the first output for `limit(0; f)`, and all of them for a negative limit.
def limit($n; f): if $n < 0 then f else label $out | foreach f as $item ($n; . - 1; $item, if . <= 0 then break $out else empty end) end;
def last(f): reduce f as $item (null; $item);
def nth($n; f): if $n < 0 then error("nth doesn't support negative indices") else last(limit($n + 1; f)) end;

# SQL-style helpers.
def INDEX(stream; idx_expr): reduce stream as $row ({}; .[$row | idx_expr | if type != "string" then tojson end] |= $row);
def INDEX(idx_expr): INDEX(.[]; idx_expr);
def JOIN($idx; idx_expr): [.[] | [., $idx[idx_expr]]];
def JOIN($idx; stream; idx_expr): stream | [., $idx[idx_expr]];
def JOIN($idx; stream; idx_expr; join_expr): stream | [., $idx[idx_expr]] | join_expr;
def IN(s): any(s == .; .);
def IN(src; s): any(src | IN(s); .);

# Streams: each leaf as [path, value], each closed container as [path of its last child].
def tostream: path(def r: (.[]? | r), .; r) as $p | getpath($p) | reduce path(.[]?) as $q ([$p, .]; [$p + $q]);
def fromstream(f): {x: null, e: false} as $init
  | foreach f as $i ($init;
      if .e then $init end
      | if $i | length == 2
        then setpath(["e"]; $i[0] | length == 0) | setpath(["x"] + $i[0]; $i[1])
        else setpath(["e"]; $i[0] | length == 1) end;
      if .e then .x else empty end);

# Regular expressions, as jq 1.6 builds them on its `_match_impl`
# (regex.rs). A regex may be given as [regex, flags]; flags may be null.
def _jq16_regex_args($val): ($val | type) as $t
  | if $t == "string" then [$val, null]
    elif $t == "array" and ($val | length) > 1 then $val[:2]
    elif $t == "array" and ($val | length) > 0 then [$val[0], null]
    else error($t + " not a string or array") end;
def _jq16_captured: reduce (.captures[] | select(.name != null) | {(.name): .string}) as $pair ({}; . + $pair);
def match(re; flags): _jq16_match_impl(re; flags; false)[];
def test(re; flags): _jq16_match_impl(re; flags; true);
def capture(re; flags): match(re; flags) | _jq16_captured;
def match($val): _jq16_regex_args($val) as [$re, $flags] | match($re; $flags);
def test($val): _jq16_regex_args($val) as [$re, $flags] | test($re; $flags);
def capture($val): _jq16_regex_args($val) as [$re, $flags] | capture($re; $flags);
def scan(re): match(re; "g") | if (.captures | length) > 0 then [.captures[].string] else .string end;
def splits($re; flags): . as $s
  | [0, (match($re; "g" + flags) | .offset, .offset + .length), ($s | length)]
  | range(0; length; 2) as $i | $s[.[$i]:.[$i + 1]];
def splits($re): splits($re; null);
def split($re; flags): [splits($re; flags)];
# The first match (every match with flag g, each found in what follows
# the one before) replaced by `s`, which sees the named captures.
def sub($re; s; $flags):
  ($flags | index("g")) as $global
  | ($flags | if $global then [explode[] | select(. != 103)] | implode end) as $once
  | def edit: . as $in
      | [match($re; $once)]
      | if length == 0 then $in
        else .[0] as $m
        | ($m.offset + $m.length) as $rest
        | $in[:$m.offset] + ($m | _jq16_captured | s)
          + ($in[$rest:] | if length > 0 and $global then edit end)
        end;
    edit;
def sub($re; s): . as $in | [match($re)] | if length == 0 then $in
  else .[0] as $m | $in[:$m.offset] + ($m | _jq16_captured | s) + $in[$m.offset + $m.length:] end;
def gsub($re; s; $flags): sub($re; s; $flags + "g");
def gsub($re; s): sub($re; s; "g");

# Times: jq 1.6 writes whole seconds, dropping the fraction.
def _jaq_todateiso8601: todateiso8601;
def todateiso8601: if type == "number" then (if . < 0 then ceil else floor end) end | _jaq_todateiso8601;
def todate: todateiso8601;

# Arithmetic rewritten from templates (see rewrite.rs): the right side is the outer loop, as in jq.
def _jq16_div(l; r): r as $r | l | _jq16_divide($r);
def _jq16_mod(l; r): r as $r | l | _jq16_modulo($r);

# jq 1.6 builtins that jaq lacks.
def format($f): if $f == "text" then @text elif $f == "json" then @json elif $f == "html" then @html
  elif $f == "uri" then @uri elif $f == "csv" then @csv elif $f == "tsv" then @tsv elif $f == "sh" then @sh
  elif $f == "base64" then @base64 elif $f == "base64d" then @base64d else error("\($f) is not a valid format") end;
def lgamma_r: [lgamma, (if tgamma < 0 then -1 else 1 end)];
def recurse_down: recurse;
def scalars_or_empty: select(type != "array" and type != "object" or length == 0);
def truncate_stream(stream): . as $depth | null | stream | select(.[0] | length > $depth) | .[0] |= .[$depth:];
def builtins: _jq16_builtins;
