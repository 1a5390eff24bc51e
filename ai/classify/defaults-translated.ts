/**
 * Default examples in the other languages the offline provider serves (fi, sv, de, da, nb), written by
 * the team for each category; merged into DEFAULT_CATEGORY_EXAMPLES. Not translations of the dev set
 * (ai/eval/data/categories-dev.csv), which was written apart from them.
 */
export const TRANSLATED_CATEGORY_EXAMPLES: Record<string, string[]> = {
  billing: [
    // Finnish, inflected and colloquial (issue #15: Finnish check set 0.6).
    'Tilisiirtona maksettu lasku näkyy edelleen maksamattomana', 'Miksi kuukausimaksu nousi ilman ilmoitusta?', 'Hyvitystä ei ole vieläkään näkynyt tilillä, vaikka peruutus tehtiin kuukausi sitten', 'Voiko laskun maksaa osissa?', 'kuitti puuttuu viime ostoksesta, saisinko sen sähköpostiin',
    'Miksi laskuni on tässä kuussa isompi kuin yleensä?', 'Saanko kopion viime kuun kuitista?', 'Maksoin laskun jo, mutta sain silti maksumuistutuksen',
    'Veloititte kortiltani summan jota en tunnista', 'Haluan vaihtaa maksutavan e-laskuun', 'Laskusta puuttuu meidän ALV-tunnus',
    'Milloin hyvitys näkyy tilillä? Peruin tilauksen viikko sitten', 'Mistä löydän vanhat laskut pdf-muodossa?', 'Onko irtisanomisesta jokin maksu?',
    'Varför är min faktura högre än vanligt den här månaden?', 'Jag har betalat fakturan men får ändå påminnelser', 'Det finns en dragning på mitt kort som jag inte känner igen',
    'Kan jag byta betalsätt till autogiro?', 'När kommer återbetalningen? Avbokade för en vecka sedan', 'Var hittar jag mina gamla kvitton?',
    'Kan ni lägga till vårt referensnummer på fakturan?', 'Tar ni ut en avgift om jag säger upp avtalet i förtid?',
    'Warum ist meine Rechnung diesen Monat höher als sonst?', 'Ich habe die Rechnung bezahlt, bekomme aber trotzdem eine Mahnung', 'Auf meiner Kreditkarte ist eine Abbuchung, die ich nicht kenne',
    'Kann ich auf Lastschrift umstellen?', 'Wann kommt die Erstattung? Ich habe vor einer Woche storniert', 'Wo finde ich meine alten Rechnungen als PDF?',
    'Bitte die Bestellnummer auf der Rechnung ergänzen', 'Fällt eine Gebühr an, wenn ich vorzeitig kündige?',
    'Hvorfor er min regning højere denne måned?', 'Jeg har betalt, men får stadig rykkere', 'Hvornår får jeg pengene tilbage for den annullerede ordre?',
    'Jeg har betalt fakturaen, men får fortsatt purring', 'Kan jeg bytte betalingsmåte til faktura?', 'Når kommer refusjonen? Jeg avbestilte for en uke siden',
  ],
  technical: [
    // Finnish, inflected and colloquial (issue #15: Finnish check set 0.6).
    'Sovelluksen näkymä jää valkoiseksi eikä mitään lataudu', 'Reititin katkaisee yhteyden monta kertaa päivässä', 'Tiedostojen lataaminen epäonnistuu aina virheilmoitukseen', 'Laitteen näyttö vilkkuu eikä kosketus reagoi', 'API-kutsut palauttavat aikakatkaisun',
    'Sovellus jumittuu aloitusnäyttöön', 'Saan virheilmoituksen kun yritän ladata tiedoston', 'Ilmoitukset eivät tule puhelimeen',
    'Laite ei yhdistä bluetoothilla', 'Sivusto on todella hidas ja aikakatkaisu tulee', 'Miten määritän sähköpostin edelleenohjauksen?',
    'Integraatio lakkasi toimimasta päivityksen jälkeen', 'Vienti CSV-tiedostoon antaa tyhjän tiedoston',
    'Appen fryser på startskärmen', 'Notiser kommer inte fram till telefonen', 'Enheten ansluter inte via bluetooth',
    'Sidan är jättelångsam och får timeout', 'Hur ställer jag in vidarebefordran av e-post?', 'Exporten till CSV blir en tom fil',
    'Vi får ett fel när vi anropar ert API', 'Hur uppdaterar jag firmware på enheten?',
    'Die App hängt beim Startbildschirm', 'Benachrichtigungen kommen auf dem Handy nicht an', 'Das Gerät verbindet sich nicht per Bluetooth',
    'Die Seite ist extrem langsam und bricht mit Zeitüberschreitung ab', 'Beim Hochladen einer Datei kommt eine Fehlermeldung', 'Der CSV-Export erzeugt eine leere Datei',
    'Wie aktualisiere ich die Firmware am Gerät?', 'Die API liefert einen Fehler zurück',
    'Appen fryser ved opstart', 'Jeg får en fejlmeddelelse når jeg uploader filer', 'Hvordan nulstiller jeg routeren?',
    'Appen krasjer hele tiden', 'Jeg får en feilmelding når jeg laster opp filer', 'Hvordan oppdaterer jeg fastvaren på enheten?',
  ],
  sales: [
    // Finnish, inflected and colloquial (issue #15: Finnish check set 0.6).
    'Mitä vuoden sopimus maksaa kymmenelle käyttäjälle?', 'Onko teillä tarjousta yritysasiakkaille?', 'Haluaisimme päivittää isompaan pakettiin, mitä se maksaa?', 'Saako tätä mallia isommassa koossa?', 'Haluaisimme nähdä demon ennen kuin päätämme',
    'Paljonko perustilaus maksaa kuukaudessa?', 'Saammeko volyymialennusta jos otamme 100 lisenssiä?', 'Voinko saada demon tuotteesta?',
    'Onko opiskelijoille alennusta?', 'Sisältyykö API pro-pakettiin?', 'Haluaisin tilata kolme laitetta yritykselle',
    'Mitä lisäkäyttäjä maksaa?', 'Voiko kokeilujaksoa jatkaa viikolla?',
    'Vad kostar grundabonnemanget per månad?', 'Får vi mängdrabatt om vi tar 100 licenser?', 'Kan jag få en demo av produkten?',
    'Har ni studentrabatt?', 'Ingår API-åtkomst i pro-planen?', 'Jag vill beställa tre enheter till företaget',
    'Vad kostar en extra användare?', 'Kan man förlänga provperioden en vecka?',
    'Was kostet das Basis-Abo pro Monat?', 'Gibt es Mengenrabatt bei 100 Lizenzen?', 'Kann ich eine Demo des Produkts bekommen?',
    'Gibt es einen Studentenrabatt?', 'Ist der API-Zugang im Pro-Tarif enthalten?', 'Ich möchte drei Geräte für unsere Firma bestellen',
    'Was kostet ein zusätzlicher Nutzer?', 'Kann man die Testphase um eine Woche verlängern?',
    'Hvad koster det at tilføje flere brugere?', 'Har I rabat til studerende?', 'Kan vi få et tilbud på 50 licenser?',
    'Hva koster grunnpakken per måned?', 'Har dere studentrabatt?', 'Kan vi få et tilbud på 50 lisenser?',
  ],
  account: [
    // Finnish, inflected and colloquial (issue #15: Finnish check set 0.6).
    'Salasanan vaihtolinkki on vanhentunut jo kun avaan sen', 'En saa enää kaksivaiheisen tunnistautumisen koodia uuteen puhelimeen', 'Uutiskirjeitä tulee vaikka en ole tilannut, poistakaa minut listalta', 'Tilini lukittiin liian monen kirjautumisyrityksen jälkeen', 'Miten suljen tilini pysyvästi?',
    'Unohdin käyttäjätunnukseni', 'Miten otan kaksivaiheisen tunnistautumisen käyttöön?', 'Tilini on lukittu',
    'Vahvistusviesti ei tullut sähköpostiin', 'Miten lisään uuden käyttäjän meidän tiliin?', 'Siirrä tilin omistajuus kollegalleni',
    'Miten annan työkaverille pääkäyttäjän oikeudet?', 'Voinko palauttaa poistetun tilin?',
    'Jag har glömt mitt användarnamn', 'Hur aktiverar jag tvåfaktorsautentisering?', 'Mitt konto är låst',
    'Hur lägger jag till en ny användare på vårt konto?', 'Flytta ägarskapet för kontot till min kollega', 'Hur ger jag min kollega administratörsbehörighet?',
    'Kan jag återaktivera mitt raderade konto?', 'Avregistrera mig från era marknadsföringsmejl',
    'Ich habe meinen Benutzernamen vergessen', 'Mein Konto ist gesperrt', 'Die Bestätigungs-E-Mail ist nie angekommen',
    'Wie füge ich einen neuen Benutzer zu unserem Konto hinzu?', 'Bitte übertragen Sie das Konto auf meinen Kollegen', 'Wie gebe ich meiner Kollegin Admin-Rechte?',
    'Kann ich mein gelöschtes Konto wiederherstellen?', 'Bitte melden Sie mich vom Newsletter ab',
    'Jeg har glemt min adgangskode', 'Min konto er låst', 'Slet venligst min konto og mine data',
    'Jeg har glemt passordet mitt', 'Kontoen min er sperret', 'Meld meg av nyhetsbrevet deres',
  ],
  general: [
    // Finnish, inflected and colloquial (issue #15: Finnish check set 0.6).
    'Palveletteko myös iltaisin ja viikonloppuisin?', 'Voiko tilauksen toimittaa ulkomaille?', 'Paketin seurantakoodi ei toimi, missä lähetykseni on?', 'Voinko noutaa tilauksen itse varastolta?', 'Kuinka kauan palautuksen käsittely kestää?',
    'Mihin aikaan olette auki arkisin?', 'Kauanko toimitus yleensä kestää?', 'Toimitatteko Ruotsiin?',
    'Mikä on palautusoikeutenne?', 'Voinko puhua oikean ihmisen kanssa?', 'Mihin noutopisteeseen pakettini menee?',
    'Onko tilaukseni jo lähetetty?', 'Hei, minulla olisi kysymys', 'Voinko palauttaa tuotteen, jos se ei sopinut?',
    'Hur lång tid tar leveransen normalt?', 'Skickar ni till Finland?', 'Vad har ni för returpolicy?',
    'Kan jag prata med en riktig människa?', 'Vilket ombud går mitt paket till?', 'Har min beställning skickats än?',
    'Hej, jag har en fråga', 'Har ni öppet på helgdagar?', 'Kan jag returnera en vara som inte passade?',
    'Wie lange dauert die Lieferung normalerweise?', 'Liefern Sie in die Schweiz?', 'Wie ist Ihre Rückgaberegelung?',
    'Kann ich mit einem echten Menschen sprechen?', 'An welche Packstation geht mein Paket?', 'Wurde meine Bestellung schon verschickt?',
    'Hallo, ich habe eine Frage', 'Haben Sie an Feiertagen geöffnet?', 'Kann ich einen Artikel zurückschicken, der nicht passt?',
    'Hvornår har I åbent?', 'Hvor lang tid tager leveringen?', 'Hvad er jeres returpolitik?',
    'Når har dere åpent?', 'Hvor lang tid tar leveringen?', 'Har bestillingen min blitt sendt?',
  ],
  complaint: [
    // Finnish, inflected and colloquial (issue #15: Finnish check set 0.6).
    'Tilaus on ollut kateissa kolme viikkoa eikä kukaan vastaa viesteihin, tämä on järkyttävää', 'Asiakaspalvelijanne oli ylimielinen ja katkaisi puhelun', 'Tämä on täysin kohtuutonta, kolmas rikkinäinen laite peräkkäin', 'Haluan puhua esimiehelle, asiaani ei ole hoidettu kuukauteen', 'Teen reklamaation, korjaus tehtiin huolimattomasti ja vika jäi',
    'Palvelunne on surkeaa', 'Olen odottanut kolme viikkoa eikä mitään tapahdu, tämä on kohtuutonta', 'Tuote tuli rikki eikä ketään kiinnosta',
    'Myyjänne oli todella epäkohtelias', 'Jätän teistä huonon arvostelun', 'Jos tätä ei korjata perjantaihin mennessä vaihdan palveluntarjoajaa',
    'Teen ilmoituksen kuluttajavirastoon', 'Olen selittänyt asiani viidelle eri ihmiselle eikä kukaan ole auttanut',
    'Er service är bedrövlig', 'Jag har väntat i tre veckor och inget händer, det är inte rimligt', 'Produkten kom trasig och ingen bryr sig',
    'Er säljare var otroligt oförskämd', 'Jag kommer att skriva en dålig recension', 'Om det inte är fixat till fredag byter jag leverantör',
    'Jag anmäler er till Konsumentverket', 'Jag har förklarat mitt ärende för fem olika personer och ingen har hjälpt mig',
    'Ihr Service ist miserabel', 'Ich warte seit drei Wochen und nichts passiert, das ist inakzeptabel', 'Das Produkt kam kaputt an und niemand kümmert sich',
    'Ihr Verkäufer war extrem unfreundlich', 'Ich werde eine schlechte Bewertung schreiben', 'Wenn das bis Freitag nicht gelöst ist, wechsle ich den Anbieter',
    'Ich wende mich an die Verbraucherzentrale', 'Ich habe mein Anliegen fünf verschiedenen Leuten erklärt und keiner hat geholfen',
    'Jeres service er elendig', 'Jeg har ventet i tre uger og intet sker', 'Jeg vil klage over jeres chauffør',
    'Servicen deres er elendig', 'Jeg har ventet i tre uker og ingenting skjer', 'Jeg vil klage på sjåføren deres',
  ],
};
