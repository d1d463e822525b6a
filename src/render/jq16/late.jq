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

# Regular expressions: flags may be null, and the regex may be given as [regex, flags].
def _jaq_match(re; flags): match(re; flags);
def _jaq_test(re; flags): test(re; flags);
def _jaq_capture(re; flags): capture(re; flags);
# jq 1.6 names every capture, null for a group without a name.
def match(re; $flags): _jaq_match(re; $flags // "") | .captures |= map(if has("name") then . else . + {name: null} end);
def test(re; $flags): _jaq_test(re; $flags // "");
def capture(re; $flags): _jaq_capture(re; $flags // "");
def match($re): if ($re | type) == "array" then match($re[0]; $re[1]) else match($re; null) end;
def test($re): if ($re | type) == "array" then test($re[0]; $re[1]) else test($re; null) end;
def capture($re): if ($re | type) == "array" then capture($re[0]; $re[1]) else capture($re; null) end;

# Times: jq 1.6 writes whole seconds, dropping the fraction.
def _jaq_todateiso8601: todateiso8601;
def todateiso8601: if type == "number" then (if . < 0 then ceil else floor end) end | _jaq_todateiso8601;
def todate: todateiso8601;

# Arithmetic rewritten from templates (see rewrite.rs): the right side is the outer loop, as in jq.
def _jq16_div(l; r): r as $r | l | _jq16_divide($r);
def _jq16_mod(l; r): r as $r | l | _jq16_modulo($r);
