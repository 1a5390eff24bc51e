/** The categories every account starts with, and the examples that train them until agents add their own. */
export const DEFAULT_CATEGORY_EXAMPLES: Record<string, string[]> = {
  billing: [
    'My invoice is wrong', 'I was charged twice this month', 'Can I get a refund for my last payment?', 'Why is my bill higher than usual?',
    'How do I update my credit card details?', 'I need a copy of my receipt', 'The payment failed but money left my account',
    'Please cancel the charge on my card', 'When will I be billed for the annual plan?', 'Do you accept PayPal or bank transfer?',
    'There is an unknown charge on my statement', 'I want to change my billing address for invoices', 'Laskussani on virhe', 'Fakturan är fel',
  ],
  technical: [
    'The app crashes when I open it', 'I cannot log in, it says error 500', 'The website is not loading', 'Sync stopped working after the update',
    'I get an error message when uploading a file', 'The integration with Slack is broken', 'Page is very slow and times out',
    'Notifications are not arriving on my phone', 'The API returns 401 unauthorized', 'Export to CSV produces an empty file',
    'Bluetooth will not connect to the device', 'How do I reset the router to factory settings?', 'Sovellus kaatuu käynnistyessä', 'Appen kraschar hela tiden',
  ],
  sales: [
    'Do you offer discounts for nonprofits?', 'I would like a quote for 50 licenses', 'What is the price of the enterprise plan?',
    'Can I get a demo of the product?', 'Is there a free trial?', 'We are interested in buying for our whole team',
    'Do you have volume pricing?', 'What features are included in the premium plan?', 'Can I talk to someone in sales?',
    'I want to upgrade to a bigger plan', 'Do you ship to Norway?', 'Is the product available in stores?', 'Paljonko yrityslisenssi maksaa?', 'Vad kostar premiumplanen?',
  ],
  account: [
    'How do I change my password?', 'I forgot my username', 'Please delete my account', 'How can I change the email on my account?',
    'I want to add a new user to our account', 'How do I enable two-factor authentication?', 'My account is locked',
    'Can I merge two accounts?', 'Update my phone number please', 'How do I change my profile name?',
    'I did not receive the verification email', 'Transfer account ownership to my colleague', 'Haluan vaihtaa salasanani', 'Jag vill radera mitt konto',
  ],
  general: [
    'What are your opening hours?', 'Where is your office located?', 'Thanks for the help!', 'Hello, I have a question',
    'Do you have a phone number I can call?', 'Is there a user guide?', 'Who should I contact about a partnership?',
    'Can you tell me more about your company?', 'Is support available on weekends?', 'Where can I find your privacy policy?',
    'How long does shipping usually take?', 'Do you have an office in Helsinki?', 'Mitkä ovat aukioloajat?', 'Tack för hjälpen!',
  ],
  complaint: [
    'This is unacceptable, I have waited three weeks', 'Your service is terrible', 'I am very disappointed with the quality',
    'Nobody answers my emails, this is ridiculous', 'The product arrived broken and nobody cares', 'I want to file a formal complaint',
    'Worst customer experience ever', 'Your agent was rude to me', 'I am going to leave a bad review', 'I have been overcharged and ignored for weeks',
    'The delivery was late again, I am fed up', 'I demand to speak to a manager', 'Olen todella pettynyt palveluunne', 'Det här är helt oacceptabelt',
  ],
};

export const DEFAULT_CATEGORIES = Object.keys(DEFAULT_CATEGORY_EXAMPLES);
