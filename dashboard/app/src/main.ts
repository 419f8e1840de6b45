import { mount } from 'svelte';
import App from './App.svelte';
import './global.css';
import { RigConnection } from './lib/connection.svelte.ts';
import { publishColors } from './lib/theme.ts';

publishColors(document.documentElement);
const connection = new RigConnection(RigConnection.urlForPage(window.location));
connection.open();
mount(App, { target: document.getElementById('app')!, props: { connection } });
