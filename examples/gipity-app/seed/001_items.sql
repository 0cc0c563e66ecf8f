INSERT INTO items (name, category, price, tags) VALUES
    ('Dune', 'books', 12.99, '{scifi,classic}'),
    ('Emma', 'books', 6.79, '{classic}'),
    ('Tetris', 'games', 19.00, '{}');

INSERT INTO audit_log (entry) VALUES ('seeded');
