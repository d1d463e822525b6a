//! contrib/argocd/health.lua, run by a real Lua 5.1 interpreter (PUC Lua,
//! built from source by the `mlua` crate), as Argo CD's gopher-lua (Lua
//! 5.1) runs it.

use mlua::{Lua, LuaSerdeExt, Table};
use serde_json::Value;

/// Argo CD's health of `object`: (status, message).
pub fn health(object: &Value) -> (String, String) {
    let lua = Lua::new();
    let script = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/contrib/argocd/health.lua")).unwrap();
    lua.globals().set("obj", lua.to_value(object).unwrap()).unwrap();
    let hs: Table = lua.load(&script).eval().unwrap();
    let field = |k: &str| hs.get::<Option<String>>(k).unwrap().unwrap_or_default();
    (field("status"), field("message"))
}
