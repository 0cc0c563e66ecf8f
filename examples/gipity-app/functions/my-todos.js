export default async function myTodos(ctx, { db }) {
  const { rows, rowCount } = await db.query(
    'SELECT id, title, done FROM todos WHERE user_guid = $1 ORDER BY id',
    [ctx.auth.userGuid],
  );
  return { todos: rows, count: rowCount };
}
