// The bundled demo dataset (200 short facts and sums as chat or text rows, the formats of core/data/dataset.ts) and
// the corpus the demo tokenizer (core/model/demo-tokenizer.ts) learns its merges from. Deterministic: fixed seeds,
// fixed shuffle. Pure TS: no Node, no GPU.
import { Rng } from '../common/rng';

const CAPITALS: [string, string][] = [
  ['France', 'Paris'], ['Japan', 'Tokyo'], ['Italy', 'Rome'], ['Spain', 'Madrid'], ['Germany', 'Berlin'],
  ['Canada', 'Ottawa'], ['Egypt', 'Cairo'], ['Kenya', 'Nairobi'], ['Peru', 'Lima'], ['Chile', 'Santiago'],
  ['Norway', 'Oslo'], ['Sweden', 'Stockholm'], ['Greece', 'Athens'], ['Portugal', 'Lisbon'], ['Ireland', 'Dublin'],
  ['Poland', 'Warsaw'], ['Austria', 'Vienna'], ['Mexico', 'Mexico City'], ['Brazil', 'Brasília'], ['Australia', 'Canberra'],
  ['India', 'New Delhi'], ['China', 'Beijing'], ['Argentina', 'Buenos Aires'], ['Turkey', 'Ankara'], ['Thailand', 'Bangkok'],
  ['Vietnam', 'Hanoi'], ['Cuba', 'Havana'], ['Finland', 'Helsinki'], ['Denmark', 'Copenhagen'], ['Hungary', 'Budapest'],
];
const SOUNDS: [string, string][] = [
  ['dog', 'barks'], ['cat', 'meows'], ['cow', 'moos'], ['duck', 'quacks'], ['sheep', 'bleats'], ['horse', 'neighs'],
  ['lion', 'roars'], ['owl', 'hoots'], ['frog', 'croaks'], ['pig', 'oinks'], ['snake', 'hisses'], ['bee', 'buzzes'],
];
const COLORS: [string, string][] = [
  ['the sky on a clear day', 'blue'], ['fresh grass', 'green'], ['snow', 'white'], ['coal', 'black'], ['a ripe banana', 'yellow'],
  ['a ripe tomato', 'red'], ['an orange', 'orange'], ['a lemon', 'yellow'], ['a pumpkin', 'orange'], ['milk', 'white'],
  ['a plum', 'purple'], ['chocolate', 'brown'], ['a stop sign', 'red'], ['a frog', 'green'], ['the night sky', 'dark blue'],
];
const OPPOSITES: [string, string][] = [
  ['hot', 'cold'], ['big', 'small'], ['up', 'down'], ['fast', 'slow'], ['happy', 'sad'], ['light', 'dark'],
  ['open', 'closed'], ['early', 'late'], ['full', 'empty'], ['old', 'new'], ['high', 'low'], ['hard', 'soft'],
  ['wet', 'dry'], ['strong', 'weak'], ['left', 'right'], ['near', 'far'], ['rich', 'poor'], ['loud', 'quiet'],
  ['true', 'false'], ['first', 'last'],
];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const LEGS: [string, number][] = [
  ['a spider', 8], ['an ant', 6], ['a dog', 4], ['a bird', 2], ['a horse', 4], ['a beetle', 6],
  ['an octopus', 8], ['a chicken', 2], ['a cat', 4], ['a snake', 0],
];
const WORDS: [string, string, string][] = [
  ['hello', 'French', 'bonjour'], ['thank you', 'French', 'merci'], ['coffee', 'French', 'café'], ['student', 'French', 'élève'],
  ['hello', 'Spanish', 'hola'], ['thank you', 'Spanish', 'gracias'], ['Spain', 'Spanish', 'España'], ['child', 'Spanish', 'niño'],
  ['hello', 'German', 'hallo'], ['thank you', 'German', 'danke'], ['hello', 'Chinese', '你好'], ['thank you', 'Chinese', '谢谢'],
];

interface QA {
  q: string;
  a: string;
}

function demoPairs(): QA[] {
  const qa: QA[] = [];
  for (const [c, cap] of CAPITALS) qa.push({ q: `What is the capital of ${c}?`, a: `The capital of ${c} is ${cap}.` });
  const rng = new Rng(20240917);
  for (let k = 0; k < 30; k++) {
    const a = 1 + rng.int(20);
    const b = 1 + rng.int(20);
    qa.push({ q: `What is ${a} plus ${b}?`, a: `${a} plus ${b} is ${a + b}.` });
  }
  for (let k = 0; k < 30; k++) {
    const a = 2 + rng.int(11);
    const b = 2 + rng.int(11);
    qa.push({ q: `What is ${a} times ${b}?`, a: `${a} times ${b} is ${a * b}.` });
  }
  for (let k = 0; k < 10; k++) {
    const a = 10 + rng.int(20);
    const b = 1 + rng.int(10);
    qa.push({ q: `What is ${a} minus ${b}?`, a: `${a} minus ${b} is ${a - b}.` });
  }
  for (const [an, s] of SOUNDS) qa.push({ q: `What sound does a ${an} make?`, a: `A ${an} ${s}.` });
  for (const [thing, col] of COLORS) qa.push({ q: `What color is ${thing}?`, a: `${thing[0].toUpperCase()}${thing.slice(1)} is ${col}.` });
  for (const [w, o] of OPPOSITES) qa.push({ q: `What is the opposite of "${w}"?`, a: `The opposite of "${w}" is "${o}".` });
  DAYS.forEach((d, i) => qa.push({ q: `Which day comes after ${d}?`, a: `${DAYS[(i + 1) % 7]} comes after ${d}.` }));
  MONTHS.forEach((m, i) => qa.push({ q: `Which month comes after ${m}?`, a: `${MONTHS[(i + 1) % 12]} comes after ${m}.` }));
  for (const [an, n] of LEGS) qa.push({ q: `How many legs does ${an} have?`, a: `${an[0].toUpperCase()}${an.slice(1)} has ${n === 0 ? 'no' : n} legs.` });
  for (const [w, lang, t] of WORDS) qa.push({ q: `How do you say "${w}" in ${lang}?`, a: `In ${lang}, "${w}" is "${t}".` });
  for (let n = 1; n <= 12; n++) qa.push({ q: `Count from 1 to ${n + 2}.`, a: Array.from({ length: n + 2 }, (_, i) => i + 1).join(', ') + '.' });
  // A fixed shuffle, so topics are mixed in any prefix of the file.
  const shuffle = new Rng(7);
  for (let i = qa.length - 1; i > 0; i--) {
    const j = shuffle.int(i + 1);
    [qa[i], qa[j]] = [qa[j], qa[i]];
  }
  return qa;
}

/**
 * The bundled demo dataset, one JSON object a line: chat rows {"messages": [user, assistant]} (default) or
 * {"text": "Question: ...\nAnswer: ..."}. 200 short facts and sums; deterministic.
 */
export function demoDatasetJsonl(format: 'messages' | 'text' = 'messages'): string {
  return (
    demoPairs()
      .map(({ q, a }) =>
        format === 'messages'
          ? JSON.stringify({ messages: [{ role: 'user', content: q }, { role: 'assistant', content: a }] })
          : JSON.stringify({ text: `Question: ${q}\nAnswer: ${a}` }),
      )
      .join('\n') + '\n'
  );
}

const CORPUS_PROSE = `MeSP Studio fine-tunes small language models on a phone's memory budget.
A model reads text as tokens. Each token is a piece of a word: common words are one token, rare words are
spelled out in smaller pieces, and any byte can still be written, so no text is ever unknown.
The assistant answers questions about the world. It knows that water boils at 100 degrees Celsius at sea level,
that there are 7 days in a week and 12 months in a year, and that the Earth goes around the Sun once a year.
When you ask a question, it says what it knows in a short sentence. If it does not know, it says so.
Training shows the model many examples. After each step, the loss should go down a little: the model is
learning which token comes next. Good data is short, clear and correct. Write one example a line.
Numbers like 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 42 and 2024 appear often; so do punctuation marks: commas,
periods, question marks? exclamation marks! quotes "like this", (parentheses), colons: and semicolons;
The user asks, and the assistant replies. Hello! How are you today? I'm fine, thank you. Let's learn.
`;

/** The text the demo tokenizer learns from: prose, the chat markers and the demo dataset itself. */
export function demoCorpus(): string {
  const chat = demoPairs()
    .map(({ q, a }) => `system\nYou are a helpful assistant.\nuser\n${q}\nassistant\n${a}\nQuestion: ${q}\nAnswer: ${a}\n`)
    .join('');
  return CORPUS_PROSE + chat;
}
