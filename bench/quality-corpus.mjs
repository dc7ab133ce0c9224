// A deterministic, labelled long-conversation set for retrieval quality (bench/quality.mjs): multi-session
// chats between two people, shaped like real conversational memory benchmarks rather than like a search
// engine's test set:
// - every turn is chatty first-person dialog, `[date] Speaker: text`, so the asker's name is in half the
//   turns and the date in every turn of a session;
// - a fact is told once, but its words come back in other turns: the friend's reaction ("Aww, send me a
//   picture of Biscuit!"), later sessions mentioning it in passing, a second event on the same topic;
// - questions are phrased like people ask them, heavy in function words ("When did Maya go to the pottery
//   class?"), and paraphrase the evidence: most share one or two content words with it, some none;
// - types: single-hop, temporal ("when did"), multi-hop (two or three evidence turns), inference ("would
//   Maya likely…"), typos, quoted titles, and German, French and Spanish turns.
// Everything is generated from a seed (bench/corpus.mjs): no outside text is stored in the repository.

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

/**
 * Topics a speaker talks about. `values` draws the details once per speaker; each event is one turn that
 * tells something (`say`: alternative wordings) and the questions it answers (`single`, `temporal`,
 * `inference`, and `typo`: a question whose longest word gets a typo). `react` are the friend's answers
 * and `mention` later turns by the speaker that reuse the topic's words without being the evidence.
 */
const TOPICS = [
  {
    key: 'pet',
    group: 'home',
    values: (r) => ({
      pet: pick(['dog', 'cat', 'parrot', 'rabbit', 'puppy', 'kitten'], r),
      petName: pick(['Biscuit', 'Pepper', 'Mochi', 'Ziggy', 'Luna', 'Waffles', 'Nacho', 'Pixel'], r),
    }),
    events: [
      {
        say: [
          (v) =>
            `Guess what, we finally adopted ${article(v.pet)} from the shelter! We named it ${v.petName}.`,
          (v) =>
            `So we brought home a little ${v.pet} last weekend, ${v.petName} already chewed my slippers haha`,
        ],
        single: [
          (v) => `What kind of pet did ${v.name} adopt?`,
          (v) => `What is the name of ${v.name}'s ${v.pet}?`,
        ],
        temporal: [(v) => `When did ${v.name} get ${v.petName}?`],
        inference: [(v) => `Is ${v.name} an animal lover?`],
        typo: [(v) => `Where did ${v.name} find the ${v.pet}?`],
      },
      {
        say: [
          (v) => `${v.petName} got sick on Tuesday, we spent the whole night at the vet. He is fine now.`,
          (v) =>
            `Had a scare with ${v.petName}, he ate something weird and we rushed him to the animal clinic.`,
        ],
        single: [
          (v) => `Why did ${v.name} take ${v.petName} to the vet?`,
          (v) => `What happened to ${v.name}'s ${v.pet}?`,
        ],
        temporal: [(v) => `When was ${v.petName} sick?`],
        typo: [(v) => `Was ${v.name}'s ${v.pet} at the veterinarian?`],
      },
    ],
    react: [
      (v) => `Aww I love that! Send me a picture of ${v.petName} please.`,
      (v) => `${cap(article(v.pet))}? That is adorable, how is ${v.petName} doing?`,
    ],
    mention: [
      (v) => `Sorry for the late reply, ${v.petName} wanted a walk.`,
      (v) => `${v.petName} is sleeping on my feet right now haha`,
    ],
  },
  {
    key: 'move',
    group: 'home',
    values: (r) => ({
      city: pick(['Lisbon', 'Montreal', 'Osaka', 'Nairobi', 'Tallinn', 'Valparaiso', 'Dublin', 'Hanoi'], r),
    }),
    events: [
      {
        say: [
          (v) => `I signed the lease yesterday, so I'm moving to ${v.city} next month for good.`,
          (v) => `It's official, we found an apartment in ${v.city}! Packing boxes all week now.`,
        ],
        single: [
          (v) => `Which city is ${v.name} relocating to?`,
          (v) => `Where did ${v.name} find a new apartment?`,
        ],
        temporal: [(v) => `When did ${v.name} decide to move to ${v.city}?`],
        inference: [(v) => `Does ${v.name} still live in the same place as before?`],
        typo: [(v) => `Where is ${v.name} moving to?`],
      },
    ],
    react: [
      (v) => `${v.city}! I have always wanted to visit, you have to show me around.`,
      (v) => `That's a big move, are you nervous about ${v.city}?`,
    ],
    mention: [
      () => `The new place still smells like paint but I like the neighbourhood.`,
      () => `Still unpacking boxes, I swear they multiply at night.`,
    ],
  },
  {
    key: 'music',
    group: 'hobby',
    values: (r) => ({
      instrument: pick(['violin', 'cello', 'ukulele', 'saxophone', 'piano', 'banjo', 'guitar'], r),
    }),
    events: [
      {
        say: [
          (v) => `I started taking ${v.instrument} lessons, my teacher says I'm improving every week.`,
          (v) => `I finally bought ${article(v.instrument)} and signed up for classes on Thursdays!`,
        ],
        single: [
          (v) => `What instrument is ${v.name} learning to play?`,
          (v) => `What lessons did ${v.name} sign up for?`,
        ],
        temporal: [(v) => `When did ${v.name} start learning the ${v.instrument}?`],
        inference: [(v) => `Would ${v.name} enjoy going to a concert?`],
        typo: [(v) => `Which instrument does ${v.name} practice?`],
      },
      {
        say: [
          () => `Played my first little recital yesterday, my hands were shaking the whole time!`,
          (v) => `My ${v.instrument} teacher asked me to perform at the spring recital, I'm terrified.`,
        ],
        single: [(v) => `Did ${v.name} perform in front of an audience?`],
        temporal: [(v) => `When did ${v.name} play at the recital?`],
        typo: [(v) => `How did ${v.name} feel about performing?`],
      },
    ],
    react: [
      (v) => `The ${v.instrument}? That's so cool, play something for me next time!`,
      () => `I always wanted to learn an instrument, how are the lessons going?`,
    ],
    mention: [
      (v) => `My fingers hurt from practicing, the ${v.instrument} is harder than it looks.`,
      () => `Can't talk long, I have practice in an hour.`,
    ],
  },
  {
    key: 'sport',
    group: 'hobby',
    values: (r) => ({ sport: pick(['climbing', 'rowing', 'fencing', 'surfing', 'archery', 'badminton'], r) }),
    events: [
      {
        say: [
          (v) => `Joined ${article(v.sport)} club last weekend, my arms are so sore today.`,
          (v) => `I tried ${v.sport} for the first time with my cousin and I'm hooked!`,
        ],
        single: [(v) => `Which sport did ${v.name} take up?`, (v) => `What club did ${v.name} join?`],
        temporal: [(v) => `When did ${v.name} first try ${v.sport}?`],
        inference: [(v) => `Is ${v.name} an active person?`],
        typo: [(v) => `Why were ${v.name}'s arms sore?`],
      },
      {
        say: [
          (v) => `We won our first ${v.sport} competition!! I still can't believe it.`,
          (v) => `Our team placed second at the regional ${v.sport} tournament, so proud of everyone.`,
        ],
        single: [(v) => `How did ${v.name}'s team do in the competition?`],
        temporal: [(v) => `When did ${v.name} compete in ${article(v.sport)} tournament?`],
        typo: [(v) => `Did ${v.name} win a competition?`],
      },
    ],
    react: [
      (v) => `${cap(v.sport)} sounds intense, be careful!`,
      (v) => `You and ${v.sport}, I would never have guessed haha`,
    ],
    mention: [() => `Training again tonight, wish me luck.`, () => `My coach says I need to rest more.`],
  },
  {
    key: 'job',
    group: 'work',
    values: (r) => ({
      job: pick(['nurse', 'carpenter', 'architect', 'librarian', 'paramedic', 'translator', 'baker'], r),
    }),
    events: [
      {
        say: [
          (v) => `Big news: I got the job as ${article(v.job)}! They called me this morning.`,
          (v) => `I start my new position as ${article(v.job)} on Monday, can you believe it?`,
        ],
        single: [(v) => `What is ${v.name}'s new job?`, (v) => `What position was ${v.name} offered?`],
        temporal: [(v) => `When did ${v.name} get hired as ${article(v.job)}?`],
        inference: [(v) => `What career path is ${v.name} likely to follow?`],
        typo: [(v) => `What does ${v.name} do for work now?`],
      },
      {
        say: [
          () => `My boss gave me a promotion today, I'm going to lead a small team!`,
          () => `The first week at work was exhausting but my colleagues are really kind.`,
        ],
        single: [(v) => `How is ${v.name}'s new workplace?`, (v) => `Did ${v.name} get promoted?`],
        temporal: [(v) => `When did ${v.name} start leading a team?`],
        typo: [(v) => `What did ${v.name} say about the colleagues?`],
      },
    ],
    react: [
      (v) => `${cap(article(v.job))}, that suits you perfectly. Congratulations!`,
      () => `So proud of you! How do you feel about the new job?`,
    ],
    mention: [
      () => `Long shift today, I can barely keep my eyes open.`,
      () => `Work is crazy this week, sorry I've been quiet.`,
    ],
  },
  {
    key: 'book',
    group: 'hobby',
    values: (r) => ({
      title: pick(
        [
          'The Glass Orchard',
          'Becoming Winter',
          'A Map of Small Rivers',
          'The Quiet Engine',
          'Salt and Lanterns',
          'Under the Copper Sky',
          'The Last Ferry Home',
        ],
        r,
      ),
    }),
    events: [
      {
        say: [
          (v) => `I just finished "${v.title}", the ending made me cry on the train.`,
          (v) => `You have to read "${v.title}", I stayed up until 3am to finish it.`,
        ],
        single: [(v) => `Which book made ${v.name} cry?`, (v) => `What novel did ${v.name} recommend?`],
        temporal: [(v) => `When did ${v.name} finish reading "${v.title}"?`],
        inference: [(v) => `Does ${v.name} like reading?`],
        title: [
          (v) => `What did ${v.name} think of "${v.title}"?`,
          (v) => `Did ${v.name} finish "${v.title}`,
        ],
      },
    ],
    react: [
      (v) => `I have "${v.title}" on my shelf, I should finally read it.`,
      () => `Is that the one everyone is talking about? No spoilers please!`,
    ],
    mention: [
      () => `I need a new book to read, any ideas?`,
      () => `Reading on the balcony is my favourite thing.`,
    ],
  },
  {
    key: 'food',
    group: 'home',
    values: (r) => ({ food: pick(['lasagna', 'ramen', 'paella', 'dumplings', 'curry', 'tacos'], r) }),
    events: [
      {
        say: [
          (v) => `I cooked ${v.food} for my grandmother's birthday and she loved it.`,
          (v) => `Made homemade ${v.food} for grandma's 90th, she asked for the recipe!`,
        ],
        single: [
          (v) => `What dish did ${v.name} cook for the birthday?`,
          (v) => `Who did ${v.name} make ${v.food} for?`,
        ],
        temporal: [(v) => `When did ${v.name} cook for the grandmother?`],
        inference: [(v) => `Is ${v.name} good in the kitchen?`],
        typo: [(v) => `What did ${v.name}'s grandmother love?`],
      },
    ],
    react: [
      (v) => `Homemade ${v.food}? Now I'm hungry, save some for me!`,
      () => `Your grandma sounds lovely, say happy birthday from me.`,
    ],
    mention: [
      () => `Trying a new recipe tonight, fingers crossed.`,
      () => `I burned the rice again, classic me.`,
    ],
  },
  {
    key: 'volunteer',
    group: 'community',
    values: (r) => ({
      place: pick(['food bank', 'animal shelter', 'youth centre', 'community garden', 'support group'], r),
    }),
    events: [
      {
        say: [
          (v) => `I volunteered at the ${v.place} on Saturday, it felt really good to help.`,
          (v) => `Spent the morning helping out at the ${v.place}, the people there are amazing.`,
        ],
        single: [(v) => `Where does ${v.name} volunteer?`, (v) => `What did ${v.name} do at the ${v.place}?`],
        temporal: [(v) => `When did ${v.name} go to the ${v.place}?`],
        inference: [(v) => `Would ${v.name} be interested in charity work?`],
        typo: [(v) => `How did ${v.name} feel after volunteering?`],
      },
    ],
    react: [
      (v) => `That's so kind of you, the ${v.place} must be grateful.`,
      (v) => `I should join you at the ${v.place} one day.`,
    ],
    mention: [() => `Helping people really puts things in perspective.`],
  },
  {
    key: 'trip',
    group: 'travel',
    values: (r) => ({
      country: pick(['Iceland', 'Peru', 'Japan', 'Morocco', 'Norway', 'Vietnam', 'Greece'], r),
      sight: pick(['waterfall', 'volcano', 'old temple', 'desert camp', 'glacier', 'night market'], r),
    }),
    events: [
      {
        say: [
          (v) => `Just got back from ${v.country}! The ${v.sight} was the highlight of the trip.`,
          (v) =>
            `We booked flights to ${v.country} for the holidays, I really want to see ${article(v.sight)}.`,
        ],
        single: [
          (v) => `Which country did ${v.name} travel to?`,
          (v) => `What was the highlight of ${v.name}'s vacation?`,
        ],
        temporal: [(v) => `When did ${v.name} go to ${v.country}?`],
        inference: [(v) => `Does ${v.name} enjoy traveling abroad?`],
        typo: [(v) => `What did ${v.name} want to see on the trip?`],
      },
    ],
    react: [
      (v) => `${v.country} is on my bucket list! Take lots of photos.`,
      (v) => `Jealous! How long is the flight to ${v.country}?`,
    ],
    mention: [
      () => `Still dreaming about the holidays, back to reality now.`,
      () => `My suitcase is still not unpacked.`,
    ],
  },
  {
    key: 'health',
    group: 'family',
    values: (r) => ({ part: pick(['knee', 'ankle', 'wrist', 'shoulder', 'back'], r) }),
    events: [
      {
        say: [
          (v) => `I hurt my ${v.part} on the stairs, the doctor says no running for six weeks.`,
          (v) => `Ugh, twisted my ${v.part} yesterday, I'm on the couch with ice for a while.`,
        ],
        single: [(v) => `What injury did ${v.name} have?`, (v) => `Why can't ${v.name} go running?`],
        temporal: [(v) => `When did ${v.name} hurt the ${v.part}?`],
        typo: [(v) => `What did the doctor tell ${v.name}?`],
      },
    ],
    react: [
      (v) => `Oh no, your ${v.part}! Take it easy and rest.`,
      () => `Get well soon, do you need anything?`,
    ],
    mention: [(v) => `My ${v.part} is a bit better today, thanks for asking.`],
  },
  {
    key: 'family',
    group: 'family',
    values: (r) => ({ relative: pick(['sister', 'brother', 'cousin', 'best friend'], r) }),
    events: [
      {
        say: [
          (v) => `My ${v.relative} got engaged last night! The wedding is next summer.`,
          (v) => `We had a surprise party for my ${v.relative}'s engagement, everyone cried.`,
        ],
        single: [
          (v) => `Who in ${v.name}'s family is getting married?`,
          (v) => `What news did ${v.name}'s ${v.relative} share?`,
        ],
        temporal: [(v) => `When did ${v.name}'s ${v.relative} get engaged?`],
        inference: [(v) => `Will ${v.name} attend a wedding next year?`],
        typo: [(v) => `What celebration did ${v.name} have for the ${v.relative}?`],
      },
    ],
    react: [
      (v) => `Congratulations to your ${v.relative}! Are you going to give a speech?`,
      () => `A wedding! You have to show me the photos.`,
    ],
    mention: [() => `Family dinner tonight, wish me patience haha`],
  },
  {
    key: 'art',
    group: 'hobby',
    values: (r) => ({ craft: pick(['pottery', 'watercolour', 'photography', 'knitting', 'woodworking'], r) }),
    events: [
      {
        say: [
          (v) =>
            `I signed up for ${article(v.craft)} class at the community centre, first session was so relaxing.`,
          (v) => `Took my first ${v.craft} workshop today, I made something ugly but I love it.`,
        ],
        single: [
          (v) => `What class did ${v.name} sign up for?`,
          (v) => `What creative hobby did ${v.name} pick up?`,
        ],
        temporal: [(v) => `When did ${v.name} go to the ${v.craft} class?`],
        inference: [(v) => `Is ${v.name} an artistic person?`],
        typo: [(v) => `What did ${v.name} make at the workshop?`],
      },
    ],
    react: [
      (v) => `${cap(v.craft)}! I want to see what you make.`,
      () => `That sounds so relaxing, I need a class like that.`,
    ],
    mention: [(v) => `My hands are covered in ${v.craft} stuff again.`],
  },
];

/** Small talk, assembled from parts so that distractor turns vary: heavy in function words, light in topic. */
const OPENERS = ['', '', 'Haha ', 'Oh wow, ', 'Honestly, ', 'Yeah, ', 'Ugh, ', 'Aww, ', 'Hey! ', 'Omg, '];
const BODIES = [
  'how have you been? It feels like ages since we talked.',
  'that is so true, I was thinking the same thing.',
  'work has been a lot lately, but I am trying to take it easy.',
  'did you see the weather today? It was so nice outside.',
  'I know what you mean, it is hard to find the time.',
  'that sounds amazing, you should be proud of yourself!',
  'we went for a walk in the park and had coffee after.',
  'I just want to sleep for the whole weekend.',
  'what are you up to this week? Anything fun planned?',
  'my mom called and we talked for hours about nothing.',
  'I am so glad to hear that, tell me more about it.',
  'it was a long day but the evening was really relaxing.',
  'have you ever tried that new place near the station?',
  'thanks for asking, things are slowly getting better.',
  'I did not expect that at all, what a surprise.',
  'that makes sense, you always know what to do.',
  'we should meet up soon, it has been too long.',
  'I was just thinking about you the other day!',
  'same here, this week went by so fast.',
  'you deserve it, seriously.',
  'I have been watching too many shows lately.',
  'the traffic this morning was unbelievable.',
  'it is so good to have someone to talk to about this.',
  'I feel like I never have enough time for myself.',
  'what did you do last weekend?',
  'I love that for you!',
  'let me know how it goes, okay?',
  'I had the weirdest dream last night.',
];
const CLOSERS = [
  '',
  '',
  '',
  ' How about you?',
  ' What about you?',
  ' You know?',
  ' Anyway, how was your day?',
];

function chatter(random, friend) {
  const body = pick(BODIES, random);
  // People address each other by name now and then, so a name is not only in its speaker's turns.
  const opener = random() < 0.15 ? `Hey ${friend}, ` : pick(OPENERS, random);
  const text = opener ? opener + body : body[0].toUpperCase() + body.slice(1);
  return text + pick(CLOSERS, random);
}

/** Other languages: a fact and chatter each, with a question in the same language. */
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

/** Questions spanning several events of one person, by topic group. */
const MULTI = {
  hobby: (name) => `What hobbies has ${name} picked up?`,
  home: (name) => `What has been going on at home for ${name}?`,
  family: (name) => `What has happened to ${name} and the family recently?`,
};

const article = (word) => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);
const cap = (text) => text[0].toUpperCase() + text.slice(1);

/** One letter swapped with its neighbour: the typo people make most. */
function typo(word, random) {
  if (word.length < 5) return word;
  const at = 1 + Math.floor(random() * (word.length - 3));
  return word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2);
}

function pick(list, random) {
  return list[Math.floor(random() * list.length)];
}

function shuffle(list, random) {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The question's longest word with a typo in it (names and titles left alone). */
function withTypo(question, random) {
  const words = question.replace(/[?.!]/g, '').split(' ');
  const longest = words.filter((w) => /^[a-z]+$/.test(w)).reduce((a, b) => (b.length > a.length ? b : a), '');
  return longest ? question.replace(longest, typo(longest, random)) : question;
}

/**
 * `conversations` conversations of `sessions` sessions each: every turn is `{ id, conversation, speaker,
 * text }` (`[date] Speaker: words`, as chat logs show), every question `{ conversation, text, evidence:
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
    // Each speaker talks about five topics; each topic's events fall in distinct sessions, in order.
    const plans = pair.map((name) =>
      shuffle(TOPICS, random)
        .slice(0, 5)
        .map((topic) => ({ topic, values: { name, ...topic.values(random) }, told: [] })),
    );
    /** schedule[session][speaker]: the events to tell, as [plan, event index]. */
    const schedule = Array.from({ length: sessions }, () => [[], []]);
    plans.forEach((speakerPlans, speaker) => {
      for (const plan of speakerPlans) {
        // k events of a topic fall in k distinct sessions, in order.
        const at = shuffle([...Array(sessions).keys()], random)
          .slice(0, plan.topic.events.length)
          .sort((a, b) => a - b);
        for (let e = 0; e < at.length; e++) schedule[at[e]][speaker].push([plan, e]);
      }
    });
    const foreignAt = new Set([Math.floor(random() * sessions)]);
    for (let s = 0; s < sessions; s++) {
      const date = `${1 + Math.floor(random() * 28)} ${MONTHS[(c + s * 2) % 12]} 2023`;
      const foreign = foreignAt.has(s) ? pick(FOREIGN, random) : null;
      const pending = [[...schedule[s][0]], [...schedule[s][1]]];
      /** A turn of the other speaker reacting to the event just told. */
      let reaction = null;
      for (let t = 0; t < turnsPerSession; t++) {
        const speaker = t % 2;
        const name = pair[speaker];
        const id = `${conversation}-s${s}-t${String(t).padStart(2, '0')}`;
        const turnsLeft = Math.floor((turnsPerSession - t + 1) / 2);
        let text;
        if (reaction !== null) {
          text = reaction;
          reaction = null;
        } else if (foreign && t === 4) {
          const values = {
            name,
            petName: 'Bruno',
            city: pick(['Lyon', 'Quebec', 'Geneva'], random),
            instrument: 'guitarra',
          };
          text = foreign.say(values);
          questions.push({ conversation, text: foreign.ask(values), evidence: [id], type: 'language' });
        } else if (foreign && t % 5 === 0) {
          text = pick(foreign.chatter, random);
        } else if (pending[speaker].length > 0 && (random() < 0.3 || pending[speaker].length >= turnsLeft)) {
          const [plan, e] = pending[speaker].shift();
          const event = plan.topic.events[e];
          const v = plan.values;
          text = pick(event.say, random)(v);
          plan.told.push(id);
          // About the mix of public conversational QA sets: one direct question per fact, a "when" for most,
          // few that need inference.
          const ask = (type, makes, share) => {
            if (makes && random() < share)
              questions.push({ conversation, text: pick(makes, random)(v), evidence: [id], type });
          };
          ask('single-hop', event.single, 1);
          ask('temporal', event.temporal, 0.6);
          ask('inference', event.inference, 0.25);
          ask('title', event.title, 1);
          ask(
            'typo',
            event.typo?.map((make) => (x) => withTypo(make(x), random)),
            0.4,
          );
          if (random() < 0.7) reaction = pick(plan.topic.react, random)(v);
        } else if (random() < 0.25) {
          // The speaker mentions something already told: the topic's words again, not the evidence.
          const told = plans[speaker].filter((p) => p.told.length > 0);
          const plan = told.length > 0 ? pick(told, random) : null;
          text = plan ? pick(plan.topic.mention, random)(plan.values) : chatter(random, pair[1 - speaker]);
        } else {
          text = chatter(random, pair[1 - speaker]);
        }
        turns.push({ id, conversation, speaker: name, text: `[${date}] ${name}: ${text}` });
      }
    }
    for (const speakerPlans of plans) {
      const name = speakerPlans[0].values.name;
      for (const [group, make] of Object.entries(MULTI)) {
        // A session can run out of turns before telling everything planned: only what was told is evidence.
        const evidence = speakerPlans
          .filter((p) => p.topic.group === group && p.told.length > 0)
          .map((p) => p.told[0]);
        if (evidence.length >= 2)
          questions.push({ conversation, text: make(name), evidence, type: 'multi-hop' });
      }
      // A topic told in two events: what happened, start to end.
      for (const plan of speakerPlans) {
        if (plan.told.length < 2) continue;
        const topic = {
          pet: 'the pet',
          music: 'the music lessons',
          sport: plan.values.sport,
          job: 'the new job',
        }[plan.topic.key];
        questions.push({
          conversation,
          text: `How have things gone with ${topic} for ${name}?`,
          evidence: plan.told,
          type: 'multi-hop',
        });
      }
    }
  }
  return { turns, questions };
}
