// Not in gipity.yaml: the platform deploys it as a public function.
export default async function undeclared() {
  return 'deployed anyway';
}
