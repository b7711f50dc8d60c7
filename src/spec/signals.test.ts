import { TsrunError } from '../errors';
import { parseSignal } from './validate';

describe('parseSignal', () => {
  test.each<[string, number]>([
    ['KILL', 9],
    ['SIGKILL', 9],
    ['kill', 9],
    ['sigterm', 15],
    ['TERM', 15],
    ['9', 9],
    ['15', 15],
    ['HUP', 1],
    ['INT', 2],
    ['USR1', 10],
    ['USR2', 12],
    ['CHLD', 17],
    ['CONT', 18],
    ['STOP', 19],
    ['WINCH', 28],
    ['SIGPWR', 30],
    ['SYS', 31],
    ['64', 64],
    ['RTMIN', 34],
    ['RTMIN+1', 35],
    ['SIGRTMIN+3', 37],
    ['rtmin+30', 64],
    ['RTMAX', 64],
    ['RTMAX-2', 62],
    ['SIGRTMAX-30', 34],
    [' TERM ', 15],
  ])('%s -> %i', (input, expected) => {
    expect(parseSignal(input)).toBe(expected);
  });

  test.each(['', 'SIG', 'NOPE', 'SIGFOO', '0', '65', '-1', '9x', 'RTMIN+31', 'RTMAX+1', 'RTMIN-1', 'RTMAX-31', 'KILL9'])(
    'rejects %j',
    (input) => {
      expect(() => parseSignal(input)).toThrow(TsrunError);
    },
  );

  test('message names the input', () => {
    expect(() => parseSignal('SIGFOO')).toThrow('unknown signal: SIGFOO');
    expect(() => parseSignal('0')).toThrow('invalid signal number: 0');
  });
});
