// The renderer's entry: Vue 3 + Pinia, the app shell, the global styles.
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import './styles.css';

createApp(App).use(createPinia()).mount('#app');
