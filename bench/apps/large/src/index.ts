import express from 'express';
import compression from 'compression';
import cors from 'cors';
import helmet from 'helmet';
import morgan from 'morgan';
import { itemsRouter } from './items';

const app = express();
const port = Number(process.env.PORT) || 3000;

app.use(helmet());
app.use(cors());
app.use(compression());
app.use(morgan('tiny'));
app.use(express.json());
app.get('/', (_req, res) => {
  res.json({ app: 'bench-large', node: process.version });
});
app.use('/items', itemsRouter());

app.listen(port, () => console.log(`listening on ${port}`));
