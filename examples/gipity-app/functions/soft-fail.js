// A soft failure: a 200 whose data says what went wrong.
export default async function softFail() {
  return { error: 'out of stock' };
}
