// Never returns, and blocks its process: only a restart stops it.
export default async function spin() {
  for (;;) {}
}
