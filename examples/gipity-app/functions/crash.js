export default async function crash() {
  process.exit(3);
}
