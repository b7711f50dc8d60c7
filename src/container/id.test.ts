import { MAX_ID_LENGTH, isValidId, validateId } from './id';

test.each(['a', 'abc123', 'A_b.c+d-e', 'tsrun-helper-1', '1', '_x', '.x', 'x..y', 'a'.repeat(MAX_ID_LENGTH), 'e3b0c44298fc1c149afbf4c8996fb924'])(
  'valid id %s',
  (id) => {
    expect(isValidId(id)).toBe(true);
    expect(() => validateId(id)).not.toThrow();
  },
);

test.each(['', '.', '..', 'a/b', '../x', '/abs', 'a b', 'a,b', 'a\nb', 'a\0b', 'é', 'a:b', 'a*', 'a'.repeat(MAX_ID_LENGTH + 1)])(
  'invalid id %j',
  (id) => {
    expect(isValidId(id)).toBe(false);
    expect(() => validateId(id)).toThrow(/^invalid container id format: /);
  },
);

test('the error names the id', () => {
  expect(() => validateId('a/b')).toThrow('invalid container id format: "a/b"');
  expect(() => validateId('x'.repeat(2000))).toThrow(/\(2000 characters\)/);
});
