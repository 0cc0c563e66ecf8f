// Deployed as a public function without a declaration in app.yaml.
export default async function undeclaredFile() {
    return { ok: true };
}
