//! Host-side bindings generated from the plugin interface (`sdk-plugin/wit/chain.wit`).

wasmtime::component::bindgen!({
    path: "../sdk-plugin/wit",
    world: "plugin",
    additional_derives: [serde::Serialize, serde::Deserialize],
});
