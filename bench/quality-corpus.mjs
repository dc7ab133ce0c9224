// A deterministic, labelled long-conversation set for retrieval quality (bench/quality.mjs): multi-session
// chats between two people, with facts planted in known turns among small talk, and questions about
// them — paraphrased, spanning two facts, about dates, with typos, with quoted titles, in several
// languages. Everything is generated from a seed: no outside text is stored in the repository.

import { mulberry32 } from './corpus.mjs';

const NAMES = [
  'Maya',
  'Jonas',
  'Priya',
  'Tomas',
  'Lena',
  'Omar',
  'Aiko',
  'Rafael',
  'Nadia',
  'Felix',
  'Ines',
  'Kwame',
  'Sofia',
  'Arjun',
  'Elsa',
  'Mateo',
];
const PETS = ['dog', 'cat', 'parrot', 'rabbit', 'tortoise', 'hamster'];
const PET_NAMES = ['Biscuit', 'Pepper', 'Mochi', 'Ziggy', 'Luna', 'Waffles', 'Nacho', 'Pixel'];
const CITIES = ['Lisbon', 'Montreal', 'Osaka', 'Nairobi', 'Tallinn', 'Valparaiso', 'Dublin', 'Hanoi'];
const INSTRUMENTS = ['violin', 'cello', 'ukulele', 'saxophone', 'piano', 'banjo', 'harmonica'];
const SPORTS = ['climbing', 'rowing', 'fencing', 'surfing', 'archery', 'badminton'];
const JOBS = ['nurse', 'carpenter', 'architect', 'librarian', 'paramedic', 'translator', 'baker'];
const TITLES = [
  'The Glass Orchard',
  'Becoming Winter',
  'A Map of Small Rivers',
  'The Quiet Engine',
  'Salt and Lanterns',
  'Under the Copper Sky',
  'The Last Ferry Home',
];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const FOODS = ['lasagna', 'ramen', 'paella', 'dumplings', 'curry', 'tacos'];

/** Facts: how a speaker says it in a turn, and questions that ask for it without repeating its wording. */
const FACTS = [
  {
    key: 'pet',
    say: (v) => `Guess what, we finally adopted a ${v.pet}! We named it ${v.petName}.`,
    ask: (v) => [
      `What kind of animal did ${v.name} get?`,
      `What is the name of ${v.name}'s pet?`,
      `Did ${v.name} adopt a pet?`,
    ],
  },
  {
    key: 'move',
    say: (v) => `I signed the lease yesterday, so I'm moving to ${v.city} next month for good.`,
    ask: (v) => [
      `Which city is ${v.name} relocating to?`,
      `Where did ${v.name} decide to live?`,
      `When did ${v.name} sign the lease in ${v.city}?`,
    ],
  },
  {
    key: 'music',
    say: (v) => `I started taking ${v.instrument} lessons, my teacher says my bowing is improving.`,
    ask: (v) => [
      `What instrument is ${v.name} learning?`,
      `Who teaches ${v.name} music?`,
      `Is ${v.name} taking lessons for the ${v.instrument}?`,
    ],
  },
  {
    key: 'sport',
    say: (v) => `Joined a ${v.sport} club last weekend, my arms are so sore today.`,
    ask: (v) => [
      `Which sport did ${v.name} take up?`,
      `What club did ${v.name} join?`,
      `Why were ${v.name}'s arms sore?`,
    ],
  },
  {
    key: 'job',
    say: (v) => `Big news: I got the job as a ${v.job} at the hospital downtown.`,
    ask: (v) => [
      `What is ${v.name}'s new job?`,
      `Where does ${v.name} work now?`,
      `Did ${v.name} get hired as a ${v.job}?`,
    ],
  },
  {
    key: 'book',
    say: (v) => `I just finished "${v.title}", the ending made me cry on the train.`,
    ask: (v) => [
      `What did ${v.name} think of "${v.title}"?`,
      `Which book made ${v.name} cry?`,
      `Did ${v.name} finish reading "${v.title}`,
    ],
  },
  {
    key: 'food',
    say: (v) => `I cooked ${v.food} for my grandmother's birthday and she loved it.`,
    ask: (v) => [
      `What dish did ${v.name} cook for the birthday?`,
      `Who did ${v.name} make ${v.food} for?`,
      `What did ${v.name}'s grandmother love?`,
    ],
  },
];

/** Small talk: the turns a memory is mostly made of, heavy in function words. */
const CHATTER = [
  'How have you been? It feels like ages since we talked.',
  'Haha that is so true, I was thinking the same thing.',
  'Work has been a lot lately, but I am trying to take it easy.',
  'Did you see the weather today? It was so nice outside.',
  'I know what you mean, it is hard to find the time.',
  'That sounds amazing, you should be proud of yourself!',
  'We went for a walk in the park and had coffee after.',
  'Honestly I just want to sleep for the whole weekend.',
  'What are you up to this week? Anything fun planned?',
  'My sister called and we talked for hours about nothing.',
  'I am so glad to hear that, tell me more about it.',
  'It was a long day but the evening was really relaxing.',
  'Have you ever tried that new place near the station?',
  'Thanks for asking, things are slowly getting better.',
  'I did not expect that at all, what a surprise.',
];

/** Other languages: one fact and chatter each, with a question in the same language. */
const FOREIGN = [
  {
    say: (v) => `Wir haben endlich einen Hund adoptiert, er heißt ${v.petName}.`,
    ask: (v) => `Wie heißt der Hund von ${v.name}?`,
    chatter: [
      'Wie geht es dir heute?',
      'Das Wetter war wirklich schön am Wochenende.',
      'Ich habe so viel Arbeit diese Woche.',
    ],
  },
  {
    say: (v) => `J'ai déménagé à ${v.city} et l'appartement est très lumineux.`,
    ask: (v) => `Où est-ce que ${v.name} a déménagé ?`,
    chatter: [
      'Comment vas-tu ce matin ?',
      "C'était une longue journée au travail.",
      'On se voit ce week-end ?',
    ],
  },
  {
    say: (v) => `Empecé clases de ${v.instrument} y la profesora es muy paciente.`,
    ask: (v) => `¿Qué clases empezó ${v.name}?`,
    chatter: [
      '¿Qué tal tu fin de semana?',
      'Hoy hace mucho calor en la ciudad.',
      'Estoy cansada pero contenta.',
    ],
  },
];

/** One letter swapped with its neighbour: the typo people make most. */
function typo(word, random) {
  if (word.length < 5) return word;
  const at = 1 + Math.floor(random() * (word.length - 3));
  return word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
}

function pick(list, random) {
  return list[Math.floor(random() * list.length)];
}

/**
 * `conversations` conversations of `sessions` sessions each: every turn is `{ id, conversation, speaker,
 * text }` (session date included, as chat logs show), every question `{ conversation, text, evidence:
 * [turn ids], type }`.
 */
export function makeConversations({
  conversations = 60,
  sessions = 6,
  turnsPerSession = 18,
  seed = 12,
} = {}) {
  const random = mulberry32(seed);
  const turns = [];
  const questions = [];
  for (let c = 0; c < conversations; c++) {
    const conversation = `c${String(c).padStart(3, '0')}`;
    const pair = [pick(NAMES, random), pick(NAMES, random)];
    if (pair[0] === pair[1]) pair[1] = NAMES[(NAMES.indexOf(pair[0]) + 1) % NAMES.length];
    const planted = new Map();
    for (let s = 0; s < sessions; s++) {
      const day = 1 + Math.floor(random() * 28);
      const month = MONTHS[(c + s * 2) % 12];
      const date = `${day} ${month} 2023`;
      const factAt = new Set([
        Math.floor(random() * turnsPerSession),
        Math.floor(random() * turnsPerSession),
      ]);
      const foreign = random() < 0.3 ? pick(FOREIGN, random) : null;
      for (let t = 0; t < turnsPerSession; t++) {
        const speakerIndex = t % 2;
        const name = pair[speakerIndex];
        const id = `${conversation}-s${s}-t${String(t).padStart(2, '0')}`;
        const values = {
          name,
          pet: pick(PETS, random),
          petName: pick(PET_NAMES, random),
          city: pick(CITIES, random),
          instrument: pick(INSTRUMENTS, random),
          sport: pick(SPORTS, random),
          job: pick(JOBS, random),
          title: pick(TITLES, random),
          food: pick(FOODS, random),
          date,
        };
        let text;
        if (foreign && t === 3) {
          text = foreign.say(values);
          questions.push({ conversation, text: foreign.ask(values), evidence: [id], type: 'language' });
        } else if (foreign && t % 5 === 0) {
          text = pick(foreign.chatter, random);
        } else if (factAt.has(t)) {
          const fact = pick(FACTS, random);
          const key = `${name}:${fact.key}`;
          if (planted.has(key)) {
            text = pick(CHATTER, random);
          } else {
            text = fact.say(values);
            planted.set(key, { id, fact, values });
            const asks = fact.ask(values);
            questions.push({ conversation, text: asks[0], evidence: [id], type: 'paraphrase' });
            questions.push({ conversation, text: asks[1], evidence: [id], type: 'paraphrase' });
            const words = asks[2].split(' ');
            const longest = words.reduce((a, b) => (b.length > a.length ? b : a));
            const quoted = asks[2].includes('"');
            questions.push({
              conversation,
              text: quoted ? asks[2] : asks[2].replace(longest, typo(longest, random)),
              evidence: [id],
              type: quoted ? 'title' : 'typo',
            });
            questions.push({
              conversation,
              text: `What did ${name} tell ${pair[1 - speakerIndex]} on ${date}?`,
              evidence: [id],
              type: 'date',
            });
          }
        } else {
          text = pick(CHATTER, random);
        }
        turns.push({ id, conversation, speaker: name, text: `[${date}] ${name}: ${text}` });
      }
    }
    // Two facts of one person: a question that needs both turns.
    const byPerson = new Map();
    for (const [key, value] of planted) {
      const person = key.split(':')[0];
      byPerson.set(person, [...(byPerson.get(person) ?? []), value]);
    }
    for (const [person, facts] of byPerson) {
      if (facts.length < 2) continue;
      const [a, b] = facts;
      questions.push({
        conversation,
        text: `${a.fact.ask(a.values)[0].replace(/\?$/, '')} and ${b.fact.ask(b.values)[0].charAt(0).toLowerCase()}${b.fact.ask(b.values)[0].slice(1)}`,
        evidence: [a.id, b.id],
        type: 'two-facts',
      });
      void person;
    }
  }
  return { turns, questions };
}
