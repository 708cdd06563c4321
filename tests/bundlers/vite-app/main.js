import { main } from '../app.js';

main('vite');
