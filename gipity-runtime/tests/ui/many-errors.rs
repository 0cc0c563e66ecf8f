// Every misuse is reported at once.
#[gipity_runtime::function(nmae = "x", auth = "admin", timeout = "soon")]
pub fn get_items<T>(_: T, (a, b): (u8, u8)) -> Vec<String> {
    Vec::new()
}

fn main() {}
