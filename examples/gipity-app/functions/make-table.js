export default async function makeTable(ctx, { db }) {
  await db.query('CREATE TABLE sneaky (id int)');
  return 'created';
}
